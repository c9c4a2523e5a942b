import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from labkit import inference, platform, timing

# --- timing -------------------------------------------------------------------------------------------------

def scripted(clock: timing.FakeClock, costs):
    """A function whose n-th call costs costs[n] seconds on the fake clock."""
    costs = iter(costs)
    calls = []

    def fn():
        calls.append(clock.now)
        clock.advance(next(costs))
    fn.calls = calls
    return fn


def test_fake_clock_moves_only_when_told():
    clock = timing.FakeClock(10.0)
    assert clock() == clock() == 10.0
    clock.advance(0.5)
    assert clock() == 10.5 and clock.reads == 3
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_measure_skips_warmup_and_reports_min_and_median():
    clock = timing.FakeClock()
    fn = scripted(clock, [100, 5, 1, 3, 2, 4])
    result = timing.measure(fn, repeats=5, warmup=1, clock=clock)
    assert result.samples == (5, 1, 3, 2, 4)
    assert (result.min, result.median) == (1, 3)
    assert "min 1,000,000.0 µs" in str(result)


def test_measure_divides_batches_by_the_number_of_calls():
    clock = timing.FakeClock()
    fn = scripted(clock, [2, 2, 4, 4])
    assert timing.measure(fn, repeats=2, warmup=0, number=2, clock=clock).samples == (2, 4)


def test_interleaved_ab_alternates_and_compares_minima():
    clock = timing.FakeClock()
    order = []
    a = scripted(clock, [9, 6, 8])
    b = scripted(clock, [9, 3, 2])
    result = timing.interleaved_ab(lambda: (order.append("a"), a()), lambda: (order.append("b"), b()),
                                   repeats=2, warmup=1, clock=clock)
    assert order == ["a", "b"] * 3
    assert result.a.samples == (6, 8) and result.b.samples == (3, 2)
    assert result.ratio == 3


@pytest.mark.parametrize("kwargs", [dict(repeats=0), dict(number=0), dict(warmup=-1)])
def test_measure_rejects_nonsense_counts(kwargs):
    with pytest.raises(ValueError):
        timing.measure(lambda: None, clock=timing.FakeClock(), **kwargs)


# --- platform -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("machine, family", [("x86_64", "x86-64"), ("AMD64", "x86-64"), ("aarch64", "arm64"),
                                             ("arm64", "arm64"), ("riscv64", "riscv64")])
def test_isa_family(machine, family):
    assert platform.isa_family(machine) == family


@pytest.mark.parametrize("text, size", [("32K", 32768), ("1024K", 1 << 20), ("32M\n", 32 << 20), ("512", 512),
                                        ("64KB", 65536)])
def test_parse_size(text, size):
    assert platform.parse_size(text) == size


def test_parse_size_refuses_garbage():
    with pytest.raises(ValueError, match="not a cache size"):
        platform.parse_size("lots")


def fake_sysfs(root, caches):
    for n, (level, kind, size, line) in enumerate(caches):
        index = root / f"index{n}"
        index.mkdir(parents=True)
        for name, value in dict(level=level, type=kind, size=size, coherency_line_size=line).items():
            if value is not None:
                (index / name).write_text(f"{value}\n")


def test_read_caches_from_a_kunpeng_like_sysfs(tmp_path):
    fake_sysfs(tmp_path, [(1, "Data", "64K", 64), (1, "Instruction", "64K", 64), (2, "Unified", "512K", 64),
                          (3, "Unified", "32768K", None)])
    caches = platform.read_caches(tmp_path)
    assert [(c.level, c.kind, c.size_bytes, c.line_bytes) for c in caches] == [
        (1, "Data", 65536, 64), (1, "Instruction", 65536, 64), (2, "Unified", 524288, 64),
        (3, "Unified", 32 << 20, None)]


def test_read_caches_without_sysfs_is_empty(tmp_path):
    assert platform.read_caches(tmp_path / "missing") == []


def test_census_reports_this_machine():
    report = platform.census()
    assert report.isa == platform.isa_family(report.machine)
    assert report.numpy == np.__version__ and report.cpu_count >= 1
    assert "CPUExecutionProvider" in report.ort_providers
    text = str(report)
    for label in ("machine (ISA)", "SIMD found at run time", "caches (CPU 0)", "BLAS", "ONNX Runtime"):
        assert label in text


def test_cpu_features_knows_the_baseline_of_this_isa():
    features = platform.cpu_features()
    baseline = {"x86-64": "SSE2", "arm64": "ASIMD"}.get(platform.census().isa)
    if baseline is None:
        pytest.skip("no known SIMD baseline for this ISA")
    assert baseline in features


# --- inference ----------------------------------------------------------------------------------------------

def test_session_runs_a_model_with_pinned_threads():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    sess = inference.session(model.SerializeToString())
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert sess.get_session_options().intra_op_num_threads == 1
    out = sess.run(None, {"x": np.array([[-1.0, 2.0]], dtype=np.float32)})[0]
    np.testing.assert_array_equal(out, [[0.0, 2.0]])


def test_session_logs_errors_only_unless_asked():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    model = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id", [x],
                                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
                              opset_imports=[helper.make_opsetid("", 17)])
    assert inference.session(model.SerializeToString()).get_session_options().log_severity_level == 3
    assert inference.session(model.SerializeToString(), log_severity=0).get_session_options().log_severity_level == 0
