import shutil

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
