import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    for label in ("machine (ISA)", "CPU model", "topology", "SIMD found at run time", "caches (CPU 0)", "BLAS",
                  "ONNX Runtime"):
        assert label in text
    openblas = [b for b in report.blas if b.get("internal_api") == "openblas"]
    assert report.openblas_core == (openblas[0]["architecture"] if openblas else None)


def test_cpu_features_knows_the_baseline_of_this_isa():
    features = platform.cpu_features()
    baseline = {"x86-64": "SSE2", "arm64": "ASIMD"}.get(platform.census().isa)
    if baseline is None:
        pytest.skip("no known SIMD baseline for this ISA")
    assert baseline in features


# --- platform: parsing, recordings ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, cpus", [("0-3,8,10-11\n", (0, 1, 2, 3, 8, 10, 11)), ("5", (5,)), ("", ())])
def test_parse_cpulist(text, cpus):
    assert platform.parse_cpulist(text) == cpus


@pytest.mark.parametrize("text, cpus", [("00000000,00010000,00000001", (0, 48)), ("ff", tuple(range(8))),
                                        ("0", ())])
def test_parse_cpumask(text, cpus):
    assert platform.parse_cpumask(text) == cpus


def test_read_cpuinfo_keeps_processor_blocks_only(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nFeatures\t: fp asimd\nCPU part\t: 0xd01\n\n"
                                      "processor\t: 1\nFeatures\t: fp asimd\n\nHardware\t: some board\n")
    cpus = platform.read_cpuinfo(tmp_path / "cpuinfo")
    assert [c["processor"] for c in cpus] == ["0", "1"] and cpus[0]["CPU part"] == "0xd01"
    assert platform.read_cpuinfo(tmp_path / "missing") == []


def test_numpy_features_from_cpuinfo_match_what_numpy_detects_here():
    """The flags -> numpy-name mapping that describes recorded machines, checked against numpy on this one."""
    report = platform.census()
    if not report.cpu_flags or not platform.cpu_features():
        pytest.skip("no /proc/cpuinfo flags or no numpy feature table on this system")
    assert platform.numpy_features(report.cpu_flags, report.isa) == frozenset(platform.cpu_features())


def test_numpy_features_follow_numpys_rules():
    # numpy only trusts FMA3 and the AVX-512 family once AVX (and AVX2 + FMA3) are usable
    assert "FMA3" not in platform.numpy_features({"sse2", "fma"}, "x86-64")
    assert "AVX512F" not in platform.numpy_features({"avx", "avx512f"}, "x86-64")
    assert "AVX512_SKX" in platform.numpy_features(
        {"avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}, "x86-64")
    assert platform.numpy_features({"fp", "asimd", "sve"}, "arm64") >= {"NEON", "ASIMD", "SVE"}
    assert platform.numpy_features({"evtstrm"}, "arm64") == frozenset()


def _lscpu(folder):
    fields = {}
    for line in (folder / "lscpu.txt").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _per_instance_bytes(value):
    """'8 MiB (128 instances)' -> bytes of one instance."""
    size, unit, count = value.replace("(", "").split()[:3]
    return round(float(size) * {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}[unit] / int(count))


@pytest.mark.parametrize("name", [n for n in platform.recorded()
                                  if (platform.recordings_dir() / n / "lscpu.txt").exists()])
def test_recordings_agree_with_util_linux_lscpu(name):
    """Our parser and util-linux's lscpu read the same machine; they must tell the same story."""
    report, lscpu = platform.load(name), _lscpu(platform.recordings_dir() / name)
    t = report.topology
    assert report.cpu_count == int(lscpu["CPU(s)"])
    assert (t.sockets, t.cores_per_socket, t.threads_per_core) == (
        int(lscpu["Socket(s)"]), int(lscpu["Core(s) per socket"]), int(lscpu["Thread(s) per core"]))
    assert len(report.numa) == int(lscpu["NUMA node(s)"])
    assert report.machine == lscpu["Architecture"]
    assert set(lscpu["Flags"].split()) == report.cpu_flags
    l1d = next(c for c in report.caches if c.level == 1 and c.kind == "Data")
    assert l1d.size_bytes == _per_instance_bytes(lscpu["L1d cache"])


def test_the_recorded_platforms_the_course_compares():
    assert {"kunpeng-920", "xeon-silver-4108", "epyc-7451", "graviton3"} <= set(platform.recorded())
    kunpeng, graviton = platform.load("kunpeng-920"), platform.load("graviton3")
    sizes = {(c.level, c.kind): c.size_bytes for c in kunpeng.caches}
    assert sizes[(1, "Data")] == 64 * 1024 and sizes[(2, "Unified")] == 512 * 1024
    assert kunpeng.isa == "arm64" and kunpeng.topology.threads_per_core == 1          # no SMT
    assert "ASIMD" in kunpeng.cpu_features and "SVE" not in kunpeng.cpu_features     # NEON only
    assert kunpeng.openblas_core == "tsv110" and kunpeng.sve_bits is None
    assert "SVE" in graviton.cpu_features and graviton.sve_bits == 256
    assert "AVX512_SKX" in platform.load("xeon-silver-4108").cpu_features
    epyc = platform.load("epyc-7451")
    assert epyc.topology.threads_per_core == 2 and epyc.openblas_core == "Zen" and len(epyc.numa) == 8
    for c in kunpeng.caches + graviton.caches:  # size = line x ways x sets for the core's own caches ...
        if c.level <= 2:
            assert c.size_bytes == c.line_bytes * c.ways * c.sets, c
    l3 = next(c for c in kunpeng.caches if c.level == 3)  # ... but firmware tables can disagree: a real quirk
    assert (l3.size_bytes, l3.line_bytes * l3.ways * l3.sets) == (32 << 20, 128 * 15 * 2048)
    assert "kunpeng-920" in str(kunpeng) and "OpenBLAS core" in str(kunpeng)


def test_load_names_the_known_platforms_when_asked_for_another():
    with pytest.raises(platform.RecordingError, match="kunpeng-920"):
        platform.load("no-such-machine")


def test_a_changed_recording_is_refused(tmp_path, monkeypatch):
    from labkit import datasets
    shutil.copytree(datasets.data_root(), tmp_path / "data")
    size = tmp_path / "data/platforms/kunpeng-920/sys/devices/system/cpu/cpu0/cache/index0/size"
    size.write_text("32K\n")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "data"))
    with pytest.raises(datasets.DatasetError, match="does not match its sha256"):
        platform.load("kunpeng-920")


def test_record_this_machine_and_load_it_back(tmp_path):
    folder = platform.record(tmp_path / "here", title="test machine")
    here, again = platform.census(), platform.load(folder)
    for name in ("machine", "isa", "cpu_count", "caches", "model", "cpu_flags", "topology", "numa"):
        assert getattr(again, name) == getattr(here, name), name
    assert again.recorded and not here.recorded and "test machine" in again.source
    with pytest.raises(FileExistsError):
        platform.record(folder)


def test_openblas_detection_predicts_the_core_openblas_chose_here():
    """Forcing the predicted target must give what OpenBLAS picked by itself (the build may merge targets:
    numpy's x86-64 wheel runs Zen on its Haswell kernels, so both report 'Haswell')."""
    report = platform.census()
    if report.openblas_core is None:
        pytest.skip("numpy here does not use OpenBLAS")
    predicted = platform.openblas_core(platform.read_cpuinfo(Path("/proc/cpuinfo"))[0], report.cpu_flags)
    if predicted is None:
        pytest.skip(f"no OpenBLAS prediction for {report.model}")
    probe = "import numpy, threadpoolctl; print(threadpoolctl.threadpool_info()[0]['architecture'])"
    forced = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**os.environ, "OPENBLAS_CORETYPE": predicted}).stdout.strip()
    assert forced == report.openblas_core


def test_platform_command_line(capsys):
    assert platform.main(["list"]) == 0 and "kunpeng-920" in capsys.readouterr().out
    assert platform.main(["show", "graviton3"]) == 0 and "256 bits" in capsys.readouterr().out
    assert platform.main(["show", "no-such-machine"]) == 1
    assert "no recorded platform" in capsys.readouterr().err


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


def test_session_saves_the_graph_it_optimised(tmp_path):
    # Gemm followed by Relu is fused at the extended level, so the saved graph shows the rewrite
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])
    weights = [onnx.numpy_helper.from_array(np.eye(2, dtype=np.float32), "W"),
               onnx.numpy_helper.from_array(np.zeros(2, dtype=np.float32), "b")]
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "dense", [x], [y], initializer=weights),
                              opset_imports=[helper.make_opsetid("", 17)])
    saved = {}
    for level in ("ORT_DISABLE_ALL", "ORT_ENABLE_EXTENDED"):
        path = tmp_path / f"{level}.onnx"
        inference.session(model.SerializeToString(), optimization=getattr(inference.ort.GraphOptimizationLevel, level),
                          optimized_model_path=path)
        saved[level] = [n.op_type for n in onnx.load(path).graph.node]
    assert saved == {"ORT_DISABLE_ALL": ["Gemm", "Relu"], "ORT_ENABLE_EXTENDED": ["FusedGemm"]}


# --- lab 01 references ------------------------------------------------------------------------------------------

def test_simd_lanes_and_widest_vector_bits():
    assert platform.simd_lanes(512, np.float32) == 16 and platform.simd_lanes(128, "int8") == 16
    for bad in (96, 0, -64):
        with pytest.raises(ValueError):
            platform.simd_lanes(bad, np.float64)
    assert platform.widest_vector_bits({"SSE2", "AVX2"}) == 256
    assert platform.widest_vector_bits(["ASIMD", "SVE"]) == 128
    assert platform.widest_vector_bits({"AVX512_SKX", "MMX"}) == 512 and platform.widest_vector_bits([]) == 0


def test_list_shaped_timing_references_match_measure():
    clock = timing.FakeClock()
    fn = scripted(clock, [9, 1, 2])
    assert timing.time_calls(fn, 2, clock=clock) == [1, 2]
    clock = timing.FakeClock()
    fa, fb = scripted(clock, [5, 2, 4]), scripted(clock, [5, 1, 1])
    assert timing.interleaved_times(fa, fb, 2, clock=clock) == ([2, 4], [1, 1])


def test_paired_ratio_cancels_a_slowdown_shared_by_both_calls_of_a_round():
    slow = np.array([1.0, 3.0, 2.0, 5.0])  # the machine's slowdown in each round
    assert timing.paired_ratio(2.0 * slow, slow) == 2.0
    assert timing.paired_ratio((1.0, 4.0, 9.0), [1.0, 2.0, 3.0]) == 2.0
    for a, b in [([1.0], [1.0, 2.0]), ([], []), ([1.0, 0.0], [1.0, 1.0])]:
        with pytest.raises(ValueError):
            timing.paired_ratio(a, b)
