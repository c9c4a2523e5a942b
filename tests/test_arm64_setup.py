"""The set-up side of ``make test-arm64`` that can be checked without emulation: qemu's prefix, the command that
starts an aarch64 kernel, the wheels it asks for, and every lab's cross-ISA convention."""
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from autograder.arm64.convention import plan
from autograder.arm64.emulation import CPU, Emulator
from autograder.arm64.sysroot import Layout, build_prefix, dropped_lib_data, extract_lib_data, requirements
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


def test_libraries_that_pip_target_drops_are_found_and_unpacked_from_the_wheel(tmp_path):
    # pip --target lists a wheel's lib/ data one level above the target (../libmpi.so) and leaves it out
    target = tmp_path / "site"
    for dist, record in [("mpich-5.0.2", "../../bin/mpiexec,sha256=x,1\n../libmpi.so.12,sha256=y,2\n"),
                         ("numpy-2.4.0", "numpy/__init__.py,sha256=z,3\n../../bin/f2py,sha256=w,4\n")]:
        (target / f"{dist}.dist-info").mkdir(parents=True)
        (target / f"{dist}.dist-info" / "RECORD").write_text(record)
    assert dropped_lib_data(target) == ["mpich==5.0.2"]
    wheel = tmp_path / "mpich-5.0.2-py3-none-manylinux_2_28_aarch64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        library = zipfile.ZipInfo("mpich-5.0.2.data/data/lib/libmpi.so.12")
        library.external_attr = 0o755 << 16
        archive.writestr(library, b"ELF...")
        archive.writestr("mpich-5.0.2.data/data/lib/mpich/libfabric.so.1", b"fabric")
        archive.writestr("mpich-5.0.2.data/data/bin/mpiexec", b"installed by pip already")
        archive.writestr("mpich-5.0.2.dist-info/RECORD", b"")
    written = extract_lib_data(wheel, target / "lib")
    assert sorted(p.relative_to(target).as_posix() for p in written) == ["lib/libmpi.so.12", "lib/mpich/libfabric.so.1"]
    assert (target / "lib" / "libmpi.so.12").read_bytes() == b"ELF..."
    assert (target / "lib" / "libmpi.so.12").stat().st_mode & 0o111


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
