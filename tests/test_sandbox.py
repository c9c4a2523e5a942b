"""The sandbox's read-only environment is readable by the unprivileged sandbox user (real bubblewrap)."""
import os
import subprocess
import sys

import pytest

from autograder.grading import sandbox

pytestmark = pytest.mark.skipif(not sandbox.probe().isolated or os.geteuid() != 0,
                                reason="needs bubblewrap and root (a sandbox user of its own); make test installs "
                                       "bubblewrap and CI runs as root")


def run_as_sandbox_user(tmp_path, argv):
    work, runtime = tmp_path / "work", tmp_path / "runtime"
    for folder in (work, runtime):
        folder.mkdir()
        folder.chmod(0o777)
    uid, claim = sandbox.claim_uid()
    try:
        cmd = sandbox.command(argv, workdir=work, runtime=runtime, limits=sandbox.Limits(), uid=uid)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        os.close(claim)


def test_the_sandbox_user_can_read_the_bound_system_files(tmp_path):
    files = ["/etc/ld.so.cache", "/etc/fonts/fonts.conf", "/etc/passwd"]
    present = [f for f in files if os.path.exists(f)]
    done = run_as_sandbox_user(tmp_path, ["/bin/sh", "-c", "id -u; head -c 1 " + " ".join(present) + " >/dev/null"])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[0]) >= sandbox.FIRST_UID


def test_plotting_in_the_sandbox_writes_nothing_to_stderr(tmp_path):
    """stderr lands in a student's graded notebook and feedback (a Fontconfig error did, in every lab)."""
    code = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(); ax.set_title('µs'); fig.savefig('/tmp/f.png'); print('drawn')")
    done = run_as_sandbox_user(tmp_path, [sys.executable, "-c", code])
    assert done.returncode == 0 and "drawn" in done.stdout, done.stderr
    assert done.stderr == ""
