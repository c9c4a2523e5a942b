"""The set-up side of ``make test-arm64`` that can be checked without emulation: qemu's prefix, the command that
starts an aarch64 kernel, the wheels it asks for, and every lab's cross-ISA convention."""
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from autograder.arm64.convention import plan
from autograder.arm64.emulation import CPU, Emulator
from autograder.arm64.sysroot import Layout, build_prefix, requirements
from autograder.labs import discover
from labkit.platform import cpu_model, numpy_features, openblas_core, read_cpuinfo


def test_the_prefix_links_the_sysroot_and_describes_the_core_qemu_emulates(tmp_path):
    layout = Layout(tmp_path)
    for name in ("usr", "etc"):
        (layout.sysroot / name).mkdir(parents=True)
    (layout.sysroot / "usr" / "marker").write_text("sysroot")
    assert build_prefix(layout, cpus=3)
    assert not build_prefix(layout, cpus=3)  # cached: a run in progress keeps its prefix
    assert (layout.prefix / "usr" / "marker").read_text() == "sysroot"
    assert not (layout.prefix / "bin").exists()  # only what the sysroot has
    processors = read_cpuinfo(layout.prefix / "proc" / "cpuinfo")
    assert len(processors) == 3
    flags = frozenset(processors[0]["Features"].split())
    assert CPU == "neoverse-n1" and cpu_model(processors[0]) == "ARM Neoverse-N1"
    assert openblas_core(processors[0], flags) == "neoversen1"
    assert "SVE" not in numpy_features(flags, "arm64") and "ASIMDDP" in numpy_features(flags, "arm64")
    assert build_prefix(layout, cpus=2) and len(read_cpuinfo(layout.prefix / "proc" / "cpuinfo")) == 2


def test_binfmt_runs_the_program_itself_and_explicit_mode_wraps_it_in_qemu():
    prefix = Path("/build/arm64/prefix")
    binfmt = Emulator("binfmt", "/usr/bin/qemu-aarch64-static", prefix)
    explicit = Emulator("explicit", "/usr/bin/qemu-aarch64-static", prefix)
    assert binfmt.command(["python3", "-c", "1"]) == ["python3", "-c", "1"]
    assert explicit.command(["python3"]) == ["/usr/bin/qemu-aarch64-static", "-L", str(prefix), "-cpu", CPU,
                                             "python3"]
    assert binfmt.environment() == {"QEMU_LD_PREFIX": str(prefix), "QEMU_CPU": CPU}


def test_the_wheels_are_the_projects_dependencies_and_a_kernel():
    wanted = requirements()
    names = {Requirement(r).name for r in wanted}
    assert {"numpy", "onnxruntime", "onnx", "matplotlib", "threadpoolctl", "ipykernel"} <= names
    assert not names & {"pytest", "ruff", "nbval"}  # test extras stay on the host


@pytest.mark.parametrize("lab", discover(), ids=lambda lab: lab.assignment_id)
def test_every_lab_states_its_cross_isa_expectations_readably(lab):
    plans = plan(lab.read(), lab.assignment_id)  # a malformed tag or tolerance raises ConventionError
    assert any(p.graded for p in plans)


def test_without_qemu_or_binfmt_it_says_what_to_install_or_enable(monkeypatch):
    from autograder.arm64 import emulation
    monkeypatch.setattr(emulation.shutil, "which", lambda name: None)
    with pytest.raises(emulation.EmulationUnavailable, match="apt-get install debootstrap qemu-user-static"):
        emulation.emulator(Path("/p"))
    monkeypatch.setattr(emulation.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(emulation, "enable_binfmt", lambda: False)
    with pytest.raises(emulation.EmulationUnavailable) as refused:
        emulation.emulator(Path("/p"))
    assert "root" in str(refused.value) and "update-binfmts --enable qemu-aarch64" in str(refused.value)
    assert "ARM64_QEMU=explicit" in str(refused.value)
    assert emulation.emulator(Path("/p"), "explicit").mode == "explicit"  # the fallback needs no binfmt
    monkeypatch.setattr(emulation, "missing_tools", lambda: ["debootstrap"])
    monkeypatch.setattr(emulation, "is_root", lambda: False)
    with pytest.raises(emulation.EmulationUnavailable, match="as root run: apt-get install -y"):
        emulation.install_tools(run=None)
    with pytest.raises(emulation.EmulationUnavailable, match="runs on an x86-64 machine"):
        emulation.check_host("aarch64")
