"""pyproject.toml (pip) and environment.yml (conda, Binder) must ask for the same packages and versions."""
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lines):
    reqs = {}
    for line in lines:
        req = Requirement(line)
        reqs[canonicalize_name(req.name)] = req.specifier
    return reqs


def pip_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return _requirements(project["dependencies"] + project["optional-dependencies"]["test"])


def conda_requirements():
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    names = [d for d in deps if isinstance(d, str) and Requirement(d).name not in {"python", "pip"}]
    return _requirements(names)


def test_same_packages_and_versions():
    pip, conda = pip_requirements(), conda_requirements()
    assert set(pip) == set(conda), f"only in pyproject: {set(pip) - set(conda)}; only in environment.yml: " \
                                   f"{set(conda) - set(pip)}"
    differing = {name: (str(pip[name]), str(conda[name])) for name in pip if pip[name] != conda[name]}
    assert not differing, f"version ranges differ (pyproject, environment.yml): {differing}"


def test_environment_installs_the_kit_itself():
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-e ." in pip_section, "Binder must install labkit and autograder from the repo"
