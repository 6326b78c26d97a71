"""Shared fixtures: tiny datasets in the official pickle layouts, and an isolated environment."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No download attempts, an empty cache, no profile or CI leaking in from outside."""
    monkeypatch.setenv("ATTNCV_OFFLINE", "1")
    monkeypatch.setenv("ATTNCV_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("ATTNCV_RUNS", str(tmp_path_factory.mktemp("runs")))
    for var in ("ATTNCV_DATA", "ATTNCV_PROFILE", "ATTNCV_PROGRESS", "CI"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def one_thread():
    """Run a test module's torch work on one CPU thread: tiny tensors gain nothing from a second
    thread, and on a busy machine every op would wait for it (an OpenMP barrier per op)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _images(labels: list[int]) -> np.ndarray:
    """Image i is filled with the value 3 * i (channel-major rows), so order can be checked."""
    return np.stack([np.full(3072, 3 * i % 256, dtype=np.uint8) for i in range(len(labels))])


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


@pytest.fixture
def cifar100_dir(tmp_path: Path) -> Path:
    """A tiny cifar-100-python/ folder: 4 classes in 2 superclasses, 6 train / 2 test per class."""
    root = tmp_path / "c100" / "cifar-100-python"
    root.mkdir(parents=True)
    fine = [f"fine{i}" for i in range(100)]
    coarse = [f"coarse{i}" for i in range(20)]
    _dump(
        root / "meta",
        {
            b"fine_label_names": [n.encode() for n in fine],
            b"coarse_label_names": [n.encode() for n in coarse],
        },
    )
    for split, per in (("train", 6), ("test", 2)):
        labels = [c for c in range(4) for _ in range(per)]
        _dump(
            root / split,
            {
                b"data": _images(labels),
                b"fine_labels": labels,
                b"coarse_labels": [c // 2 for c in labels],
            },
        )
    return root.parent


@pytest.fixture
def cifar10_dir(tmp_path: Path) -> Path:
    """A tiny cifar-10-batches-py/ folder: 10 classes, 5 train (in two batches) / 2 test each."""
    root = tmp_path / "c10" / "cifar-10-batches-py"
    root.mkdir(parents=True)
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    _dump(root / "batches.meta", {b"label_names": [n.encode() for n in names]})
    labels = [c for c in range(10) for _ in range(5)]
    _dump(root / "data_batch_1", {b"data": _images(labels[:25]), b"labels": labels[:25]})
    _dump(root / "data_batch_2", {b"data": _images(labels[25:]), b"labels": labels[25:]})
    test = [c for c in range(10) for _ in range(2)]
    _dump(root / "test_batch", {b"data": _images(test), b"labels": test})
    return root.parent
