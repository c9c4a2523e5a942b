"""Isolation for the whole test run (tests/ and the nbval run over labs/).

Kernels and nbgrader write into ``~/.ipython``, ``~/.local/share/jupyter`` and the exchange cache; a test run
must not touch the developer's, nor depend on what is there. Set before any kernel starts.
"""
import os
import tempfile

_home = tempfile.mkdtemp(prefix="substrate-labs-test-home-")
for _var, _sub in {"HOME": "", "IPYTHONDIR": ".ipython", "JUPYTER_CONFIG_DIR": ".jupyter",
                   "JUPYTER_DATA_DIR": ".local/share/jupyter",
                   "JUPYTER_RUNTIME_DIR": ".local/share/jupyter/runtime"}.items():
    os.environ[_var] = os.path.join(_home, _sub)
