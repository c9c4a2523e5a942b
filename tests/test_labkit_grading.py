"""labkit.grading: twins raise while a test cell runs and only then; fallbacks keep demos running.

The cell-lifetime behaviour runs in a real IPython InteractiveShell (the shell ipykernel wraps), so "until the
cell ends" means what it means in a notebook.
"""
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell

import labkit.timing
from labkit import grading
from labkit.grading import TWINS, TwinCalled, forbid_twins, forbidden, resolve, with_fallback
from labkit.timing import FakeClock, Timing, interleaved_ab, measure


def one_second(clock):
    return lambda: clock.advance(1.0)


def measured_min(measure_fn=measure):
    clock = FakeClock()
    return measure_fn(one_second(clock), repeats=3, clock=clock).min


def test_every_twin_resolves_to_a_guardable_function():
    for task, names in TWINS.items():
        assert names, task
        for name in names:
            assert callable(resolve(name)), name


def test_a_twin_raises_inside_and_works_again_after():
    before = measured_min()
    with forbidden("time_calls"):
        with pytest.raises(TwinCalled, match="solve this task without calling labkit.timing.measure"):
            measured_min()
        assert measured_min.__name__  # other code still runs
    assert measured_min() == before == 1.0


def test_twin_called_is_an_assertion_error_so_nbgrader_scores_the_cell_zero():
    with forbidden("interleaved_times"), pytest.raises(AssertionError):
        interleaved_ab(lambda: None, lambda: None, repeats=1)


def test_names_imported_before_the_guard_are_caught_too():
    from labkit.timing import measure as my_alias  # what a student's `from labkit.timing import measure` binds

    with forbidden("time_calls"), pytest.raises(TwinCalled):
        measured_min(my_alias)
    with forbidden("time_calls"), pytest.raises(TwinCalled):
        measured_min(labkit.timing.measure)


def test_property_twins_are_guarded(monkeypatch):
    monkeypatch.setitem(TWINS, "fastest", ("labkit.timing.Timing.min",))
    timing = Timing((3.0, 1.0, 2.0))
    with forbidden("fastest"), pytest.raises(TwinCalled, match="labkit.timing.Timing.min"):
        _ = timing.min
    assert timing.min == 1.0


def test_restored_when_the_block_raises():
    with pytest.raises(ZeroDivisionError), forbidden("time_calls"):
        raise ZeroDivisionError("a failing check")
    assert measured_min() == 1.0


def test_nested_guards_of_one_function_restore_only_at_the_outermost_exit():
    with forbidden("time_calls"):
        with forbidden("time_calls"):
            pass
        with pytest.raises(TwinCalled):
            measured_min()
    assert measured_min() == 1.0


def test_other_tasks_twins_are_not_guarded():
    with forbidden("time_calls"):
        assert interleaved_ab(lambda: None, lambda: None, repeats=1).a.samples


def test_an_unknown_task_is_an_error_that_names_the_known_ones():
    with pytest.raises(KeyError, match="no entry in labkit.grading.TWINS.*time_calls"), forbidden("no_such_task"):
        pass


def test_forbid_twins_outside_ipython_points_to_the_context_manager():
    assert grading._ipython() is None
    with pytest.raises(RuntimeError, match="with forbidden"):
        forbid_twins("time_calls")


# --- cell lifetime, in a real IPython shell --------------------------------------------------------------------

@pytest.fixture
def shell():
    hooks = sys.displayhook, sys.excepthook
    shell = InteractiveShell.instance()
    shell.run_cell("from labkit.grading import forbid_twins\nfrom labkit.timing import FakeClock, measure\n"
                   "def timed():\n    clock = FakeClock()\n"
                   "    return measure(lambda: clock.advance(2.0), repeats=2, clock=clock).min\n")
    yield shell
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = hooks
    assert grading._ipython() is None  # later tests in this process see plain Python again


def run(shell, source):
    result = shell.run_cell(source)
    return result.error_in_exec, shell.user_ns.get("_")


def test_in_ipython_twins_raise_until_the_cell_ends(shell):
    error, _ = run(shell, "forbid_twins('time_calls')\ntimed()")
    assert isinstance(error, TwinCalled) and "labkit.timing.measure" in str(error)
    error, value = run(shell, "timed()")
    assert error is None and value == 2.0


def test_in_ipython_the_guard_is_lifted_when_the_cell_raises(shell):
    error, _ = run(shell, "forbid_twins('time_calls')\nraise ValueError('student bug')")
    assert isinstance(error, ValueError)
    error, value = run(shell, "timed()")
    assert error is None and value == 2.0


def test_in_ipython_a_passing_test_cell_leaves_nothing_guarded(shell):
    error, _ = run(shell, "forbid_twins('time_calls')\nforbid_twins('interleaved_times')\nx = 1")
    assert error is None and not grading._guarded
    assert shell.events.callbacks["post_execute"] == [cb for cb in shell.events.callbacks["post_execute"]
                                                      if "undo" not in getattr(cb, "__qualname__", "")]


def test_in_ipython_with_fallback_finds_the_notebooks_function(shell, capsys):
    shell.run_cell("def double(x):\n    return 2 * x\n")
    error, value = run(shell, "from labkit.grading import with_fallback\n"
                              "with_fallback('double', lambda x: x + x)(21)")
    assert error is None and value == 42
    shell.run_cell("def double(x):\n    raise NotImplementedError()\n")
    error, value = run(shell, "with_fallback('double', lambda x: x + x)(4)")
    assert error is None and value == 8
    assert "`double` is unfinished (it raised NotImplementedError)" in capsys.readouterr().out


# --- with_fallback outside IPython (caller's globals) ----------------------------------------------------------

def working(x):
    return x * 10


def unfinished(x):
    raise NotImplementedError()


def reference(x):
    return x + 1


def test_fallback_uses_the_students_function_when_it_works(capsys):
    demo = with_fallback("working", reference)
    assert [demo(1), demo(2)] == [10, 20]
    assert capsys.readouterr() == ("", "")


def test_fallback_prints_one_line_on_stdout_once_and_uses_the_reference(capsys):
    demo = with_fallback("unfinished", reference)
    assert [demo(1), demo(2), demo(3)] == [2, 3, 4]
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1
    assert "`unfinished` is unfinished (it raised NotImplementedError)" in out
    assert "test_labkit_grading.reference" in out and "grade is unaffected" in out


def test_fallback_rejects_a_result_that_fails_accept(capsys):
    demo = with_fallback("working", reference, accept=lambda result: result < 15)
    assert demo(1) == 10          # accepted
    assert demo(2) == 3           # 20 rejected: the reference from now on
    assert demo(1) == 2
    assert "failed a sanity check" in capsys.readouterr().out


def test_fallback_for_a_name_the_notebook_never_defined(capsys):
    demo = with_fallback("never_defined", reference)
    assert demo(1) == 2 and demo(5) == 6
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "it is not defined" in out


def test_in_a_real_kernel_the_guard_lasts_exactly_one_cell():
    """What nbgrader runs: ipykernel executing cells one by one (an error in one cell does not stop the next)."""
    import nbformat
    from nbclient import NotebookClient

    cells = ["from labkit.grading import forbid_twins\nfrom labkit.timing import FakeClock, measure\n"
             "clock = FakeClock()\ndef timed():\n    return measure(lambda: clock.advance(1.0), clock=clock).min",
             "forbid_twins('time_calls')\ntimed()",
             "print(timed())"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=60).execute()
    guarded, after = nb.cells[1].outputs, nb.cells[2].outputs
    assert guarded[0].ename == "TwinCalled" and "labkit.timing.measure" in guarded[0].evalue
    assert after[0].text == "1.0\n"
