"""The small datasets that ship in ``datasets/``: loaded offline and checked against ``MANIFEST.sha256``."""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

ENV_VAR = "SUBSTRATE_LABS_DATA"


class DatasetError(RuntimeError):
    """A shipped dataset is missing or does not match its recorded checksum."""


def data_root() -> Path:
    """Where the datasets are: ``$SUBSTRATE_LABS_DATA`` if set, else the copy inside an installed wheel
    (``labkit/data``), else the repository's ``datasets/`` (a checkout or an editable install)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    packaged = Path(__file__).resolve().parent / "data"
    return packaged if (packaged / "MANIFEST.sha256").exists() else Path(__file__).resolve().parents[1] / "datasets"


def manifest(root: Path | None = None) -> dict[str, str]:
    """Relative path -> expected sha256, from the ``sha256sum``-format manifest."""
    root = root or data_root()
    path = root / "MANIFEST.sha256"
    if not path.exists():
        raise DatasetError(f"no dataset manifest at {path}; set {ENV_VAR} to the kit's datasets/ folder")
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.lstrip("*")] = digest
    return entries


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checked_path(name: str, root: Path | None = None) -> Path:
    """Path of a shipped file after checking its sha256 against the manifest."""
    root = root or data_root()
    expected = manifest(root).get(name)
    path = root / name
    if expected is None:
        raise DatasetError(f"{name} is not listed in {root / 'MANIFEST.sha256'}")
    if not path.exists():
        raise DatasetError(f"{path} is missing; the kit ships it, so restore it from the repository")
    if sha256(path) != expected:
        raise DatasetError(f"{path} does not match its sha256 in the manifest; restore it from the repository")
    return path


def load_digits(root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """UCI optical digits: ``X`` (1797, 64) float32 pixel counts 0..16, ``y`` (1797,) int64 labels 0..9."""
    with gzip.open(checked_path("digits/optdigits.csv.gz", root), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(np.float32), table[:, -1]


def train_test_split(X: np.ndarray, y: np.ndarray, *, test_fraction: float = 0.25, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded shuffle split: ``X_train, X_test, y_train, y_test``; the same seed gives the same split."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = round(len(X) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
