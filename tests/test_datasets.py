import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from labkit import datasets


def test_every_shipped_file_matches_the_manifest():
    root = datasets.data_root()
    entries = datasets.manifest(root)
    assert entries, "the manifest lists no files"
    for name, digest in entries.items():
        assert datasets.sha256(root / name) == digest, f"{name} changed without updating MANIFEST.sha256"


def test_every_dataset_file_is_listed_and_attributed():
    root = datasets.data_root()
    listed = set(datasets.manifest(root))
    shipped = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
               and p.name not in {"MANIFEST.sha256", "LICENSE.md", "README.md"}}
    assert shipped == listed
    licence = (root / "LICENSE.md").read_text()
    assert "CC BY 4.0" in licence and "Alpaydin" in licence
    recordings = {p.parent.parent.name for p in root.glob("platforms/*/proc/cpuinfo")}
    assert recordings, "no recorded platforms shipped"
    for name in recordings:  # each recording has its own section naming its source and licence
        section = licence.split(f"### {name} ")[1].split("\n### ")[0] if f"### {name} " in licence else ""
        assert "Source" in section and "Licence" in section, f"platforms/{name} has no attribution section"
        assert json.loads((root / "platforms" / name / "recording.json").read_text())["licence"] in section


def test_digits_shape_labels_and_range():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))
    assert X.min() == 0 and X.max() == 16


def test_a_corrupted_copy_is_refused_with_a_clear_error(tmp_path):
    root = datasets.data_root()
    shutil.copytree(root, tmp_path / "data")
    target = tmp_path / "data" / "digits" / "optdigits.csv.gz"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(datasets.DatasetError, match="does not match its sha256"):
        datasets.load_digits(tmp_path / "data")


def test_the_environment_variable_points_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    with pytest.raises(datasets.DatasetError, match="no dataset manifest"):
        datasets.load_digits()


def test_split_is_seeded_disjoint_and_complete():
    X, y = datasets.load_digits()
    a = datasets.train_test_split(X, y, seed=3)
    b = datasets.train_test_split(X, y, seed=3)
    c = datasets.train_test_split(X, y, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[3], c[3])
    X_train, X_test, y_train, y_test = a
    assert len(X_test) == round(0.25 * len(X)) and len(X_train) + len(X_test) == len(X)
    assert sorted(np.concatenate([y_train, y_test])) == sorted(y)


def test_split_rejects_a_nonsense_fraction():
    X, y = datasets.load_digits()
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.train_test_split(X, y, test_fraction=1.5)


def test_a_wheel_install_carries_the_datasets(tmp_path):
    """A hub image installs the kit from a wheel, not from a checkout: labs must still find their data."""
    root = Path(__file__).resolve().parents[1]
    source = tmp_path / "source"  # pip builds in the source tree: build from a copy, not the checkout
    shutil.copytree(root, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                    str(source)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("substrate_labs-*.whl"))
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    for name in datasets.manifest(root / "datasets"):
        assert (installed / "labkit" / "data" / name).exists(), f"{name} is missing from the wheel"
    check = ("import labkit.datasets as d, labkit.platform as p, pathlib, sys; X, y = d.load_digits(); "
             "assert pathlib.Path(d.__file__).is_relative_to(sys.argv[1]), d.__file__; print(X.shape); "
             "print(p.load('kunpeng-920').openblas_core)")
    run = subprocess.run([sys.executable, "-c", check, str(installed)], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["(1797,", "64)", "tsv110"]
