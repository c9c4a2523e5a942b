"""The cross-ISA comparison of ``make test-arm64`` (autograder.arm64), on hand-made runs: no emulation here."""
import math

import numpy as np
import pytest
from nbformat import v4

from autograder.arm64.compare import compare_lab, compare_text, split_numbers
from autograder.arm64.convention import EXACT, ConventionError, Tolerance, plan, tolerance
from autograder.arm64.records import CellRecord, NotebookRecord, record_cell

FLOAT32_ULP = Tolerance(rtol=2.0**-22, why="np.exp: 1 ulp of float32 either way")


def _nbgrader(cell, grade_id, *, grade, solution):
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": grade, "solution": solution, "locked": grade,
                                 "grade_id": grade_id, **({"points": 1} if grade else {})}
    return cell


def _lab(default=None):
    """setup, answer, its test, an untagged demo, an invariant demo, a machine-dependent test."""
    cells = [v4.new_markdown_cell("# Lab"), v4.new_code_cell("import numpy as np"),
             _nbgrader(v4.new_code_cell("def f(): ..."), "f", grade=False, solution=True),
             _nbgrader(v4.new_code_cell("assert f() is None"), "f_test", grade=True, solution=False),
             v4.new_code_cell("print(1.5)"), v4.new_code_cell("print(2.5)", metadata={"tags": ["isa-invariant"]}),
             _nbgrader(v4.new_code_cell("print(machine)", metadata={"tags": ["isa-dependent"]}), "m_test",
                       grade=True, solution=False)]
    nb = v4.new_notebook(cells=cells)
    if default:
        nb.metadata["substrate_labs"] = {"isa_tolerance": default}
    return nb


def _run(isa, texts, **changes):
    cells = {index: CellRecord(index, text) for index, text in texts.items()}
    cells.update(changes.pop("cells", {}))
    return NotebookRecord("01-x", isa, cells, **changes)


TEXTS = {1: "", 2: "", 3: "", 4: "timing 1.5 s\n", 5: "accuracy 0.981.\n", 6: "x86_64\n"}


def test_numbers_are_found_but_names_versions_and_words_are_text():
    text, numbers = split_numbers("float32 on L1: 1,797 samples, loss -2.5e-03, numpy 2.4.1 at 99.4%. x86_64 3.")
    assert numbers == [1797.0, -2.5e-3, 99.4, 3.0]
    assert "float32" in text and "L1" in text and "2.4.1" in text and "x86_64" in text


def test_float32_printed_one_ulp_apart_agrees_within_ulp_tolerance_and_not_exactly():
    exact = np.array([0.09003057, 0.24472847, 0.66524096], dtype=np.float32)
    nudged = exact.copy()
    nudged[1] = np.nextafter(nudged[1], np.float32(1))  # numpy now prints more digits and realigns the columns
    reference, other = str(exact), str(nudged)
    assert reference != other
    within = compare_text(reference, other, FLOAT32_ULP)
    assert within.agrees and within.numbers == 3
    printed = float(str(exact[1])), float(str(nudged[1]))  # what was printed, not the float32 values
    assert within.max_rel == pytest.approx((printed[1] - printed[0]) / printed[0])
    assert 0 < within.max_rel < 2.0**-22
    assert not compare_text(reference, other, EXACT).agrees


def test_other_words_or_another_count_of_numbers_disagree_whatever_the_tolerance():
    loose = Tolerance(rtol=1.0, atol=1.0, why="test")
    words = compare_text("running on CPUExecutionProvider\n", "running on CANNExecutionProvider\n", loose)
    assert not words.agrees and "line 1" in words.problem
    assert not compare_text("[1. 2.]", "[1. 2. 3.]", loose).agrees
    assert compare_text("a\nb 1", "a b 1.0", EXACT).agrees  # whitespace and number spelling are not the output


def test_tolerance_is_absolute_plus_relative_to_x86_and_nan_only_matches_nan():
    tol = Tolerance(rtol=1e-3, atol=1e-6, why="test")
    assert tol.allows(1000.0, 1000.9) and not tol.allows(1000.0, 1001.1)
    assert tol.allows(0.0, 9e-7) and not tol.allows(0.0, 2e-6)
    assert tol.allows(math.nan, math.nan) and not tol.allows(math.nan, 0.0) and not tol.allows(math.inf, 1e308)


def test_lab_tolerance_applies_to_every_cell_and_a_cell_overrides_it():
    nb = _lab(default={"rtol": 1e-6, "why": "float32 softmax"})
    nb.cells[5].metadata["substrate_labs"] = {"isa_tolerance": {"atol": 0.5, "why": "rounded to halves"}}
    tolerances = {p.index: p.tolerance for p in plan(nb)}
    assert tolerances[3].rtol == 1e-6 and tolerances[5] == Tolerance(0.0, 0.5, "rounded to halves")


@pytest.mark.parametrize("stated", [{"rtol": -1, "why": "x"}, {"rtol": "1e-6", "why": "x"}, {"rtol": 1e-6},
                                    {"rtol": True, "why": "x"}, {"ulps": 1}, [1e-6]])
def test_a_tolerance_that_is_not_a_stated_non_negative_number_with_a_reason_is_an_error(stated):
    with pytest.raises(ConventionError, match="isa_tolerance"):
        tolerance({"substrate_labs": {"isa_tolerance": stated}}, EXACT, "lab")


def test_tests_and_answers_are_compared_demos_only_when_tagged_and_dependent_cells_never():
    plans = {p.index: p for p in plan(_lab())}
    assert sorted(plans) == [1, 2, 3, 4, 5, 6]
    assert [i for i, p in plans.items() if p.compared] == [2, 3, 5]
    assert [i for i, p in plans.items() if p.graded] == [3, 6]
    nb = _lab()
    nb.cells[5].metadata["tags"].append("isa-dependent")
    with pytest.raises(ConventionError, match="both"):
        plan(nb)


def test_agreeing_runs_pass_and_count_what_was_compared():
    nb = _lab()
    other = {**TEXTS, 4: "timing 9.1 s\n", 6: "aarch64\n"}  # untagged and dependent cells may differ
    result = compare_lab("01-x", plan(nb), _run("x86_64", TEXTS), _run("aarch64", other))
    assert result.ok, result.problems
    assert (result.graded_cells, result.cells_compared, result.numbers_compared) == (2, 3, 1)
    assert result.passed == {"x86_64": 2, "aarch64": 2}
    assert result.untagged_differ == ["cell 4"]  # a hint to tag it; the dependent cell 6 is not one


def test_every_way_a_lab_can_fail_on_one_isa_is_reported_for_that_isa():
    nb = _lab()
    broken = _run("aarch64", {**TEXTS, 5: "accuracy 0.982.\n"}, cells={
        3: CellRecord(3, error="AssertionError: f changed"),
        6: CellRecord(6, "aarch64\n", stderr="RuntimeWarning: overflow in exp")})
    result = compare_lab("01-x", plan(nb), _run("x86_64", TEXTS), broken)
    assert not result.ok
    assert any(p.startswith("aarch64: cell 3 (f_test) raised AssertionError") for p in result.problems)
    assert any(p.startswith("aarch64: cell 6 (m_test) wrote to stderr") for p in result.problems)
    assert any(p.startswith("cell 5: 1 of 1 numbers outside the tolerance") for p in result.problems)
    assert result.max_rel == pytest.approx(0.001 / 0.981) and result.where_max == "cell 5"
    stopped = _run("aarch64", {1: ""}, failure="the kernel died")
    problems = compare_lab("01-x", plan(nb), _run("x86_64", TEXTS), stopped).problems
    assert problems == ["aarch64: the run stopped: the kernel died"]


def test_records_read_outputs_as_nbgrader_judges_them_and_survive_a_round_trip(tmp_path):
    cell = v4.new_code_cell("x", outputs=[
        v4.new_output("stream", name="stdout", text="a 1\n"), v4.new_output("stream", name="stderr", text="warn\n"),
        v4.new_output("execute_result", data={"text/plain": "2.0", "image/png": "..."}, execution_count=1)])
    record = record_cell(4, cell)
    assert (record.text, record.stderr, record.passed) == ("a 1\n2.0\n", "warn\n", False)
    failed = record_cell(5, v4.new_code_cell("x", outputs=[v4.new_output("error", ename="ValueError",
                                                                           evalue="bad", traceback=[])]))
    assert failed.error == "ValueError: bad" and not failed.passed
    run = NotebookRecord("01-x", "aarch64", {4: record, 5: failed}, seconds=12.5)
    run.save(tmp_path / "run.json")
    assert NotebookRecord.load(tmp_path / "run.json") == run


def test_the_report_gives_one_row_per_lab_with_its_verdict_and_lists_problems_and_hints_below():
    from autograder.arm64.report import render
    nb = _lab()
    ok = compare_lab("01-x", plan(nb), _run("x86_64", TEXTS, seconds=8.0), _run("aarch64", TEXTS, seconds=74.0))
    bad_run = _run("aarch64", {**TEXTS, 4: "timing 3.0 s\n", 5: "accuracy 0.5.\n"})
    bad = compare_lab("02-y", plan(nb), _run("x86_64", TEXTS), bad_run)
    text = render([(ok, _run("x86_64", TEXTS, seconds=8.0), _run("aarch64", TEXTS, seconds=74.0)),
                   (bad, _run("x86_64", TEXTS), bad_run)])
    rows = text.splitlines()
    assert rows[2].startswith("01-x") and rows[2].rstrip().endswith("ok") and " 74 s " in rows[2]
    assert rows[3].startswith("02-y") and rows[3].rstrip().endswith("FAILED")
    assert "02-y:\n  - cell 5: 1 of 1 numbers outside the tolerance" in text
    assert "02-y: untagged cells whose output differs" in text and "01-x: untagged" not in text
