"""Our own reader of the official CIFAR pickles (torchvision's classes refuse subsets: they check
the official files' checksums)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .dataset import CifarData
from .errors import DataError
from .layout import STATS


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing. The folder {path.parent} looks incomplete: delete it and let "
            "attncv download CIFAR-100 again, or copy the file back."
        ) from None
    except Exception as exc:
        raise DataError(
            f"{path} could not be read ({type(exc).__name__}: {exc}). The file is "
            f"corrupt or not a CIFAR pickle: delete {path.parent} and download "
            "again."
        ) from None


def _images(batch: dict, path: Path) -> Tensor:
    raw = np.asarray(batch[b"data"], dtype=np.uint8)
    if raw.ndim != 2 or raw.shape[1] != 3072:
        raise DataError(
            f"{path}: expected images as (N, 3072) bytes, got shape {raw.shape}. "
            "The file is not in the official CIFAR layout."
        )
    return torch.from_numpy(raw.reshape(-1, 3, 32, 32).copy())  # channel-major rows


def _names(meta: dict, key: bytes) -> list[str]:
    return [n.decode() if isinstance(n, bytes) else str(n) for n in meta[key]]


def read_cifar100(path: str | os.PathLike[str]) -> CifarData:
    """Read the official ``cifar-100-python`` pickles (whole or a subset) with our own reader."""
    path = Path(path)
    meta, train, test = (_unpickle(path / f) for f in ("meta", "train", "test"))
    labels = {
        s: torch.tensor(b[b"fine_labels"], dtype=torch.int64)
        for s, b in (("train", train), ("test", test))
    }
    coarse = {
        s: torch.tensor(b[b"coarse_labels"], dtype=torch.int64)
        for s, b in (("train", train), ("test", test))
    }
    mean, std = STATS["CIFAR-100"]
    return CifarData(
        "CIFAR-100",
        "CIFAR-100",
        str(path),
        _images(train, path / "train"),
        labels["train"],
        _images(test, path / "test"),
        labels["test"],
        _names(meta, b"fine_label_names"),
        mean,
        std,
        _names(meta, b"coarse_label_names"),
        coarse["train"],
        coarse["test"],
    )


def read_cifar10(path: str | os.PathLike[str]) -> CifarData:
    """Read the official ``cifar-10-batches-py`` pickles, however many training batches exist."""
    path = Path(path)
    meta = _unpickle(path / "batches.meta")
    files = sorted(path.glob("data_batch_*"))
    if not files:
        raise DataError(f"{path} holds no data_batch_* file: it is not a CIFAR-10 folder.")
    train = [_unpickle(f) for f in files]
    test = _unpickle(path / "test_batch")
    mean, std = STATS["CIFAR-10"]
    return CifarData(
        "CIFAR-10",
        "CIFAR-10 (offline substitute for CIFAR-100)",
        str(path),
        torch.cat([_images(b, f) for b, f in zip(train, files, strict=True)]),
        torch.tensor([y for b in train for y in b[b"labels"]], dtype=torch.int64),
        _images(test, path / "test_batch"),
        torch.tensor(test[b"labels"], dtype=torch.int64),
        _names(meta, b"label_names"),
        mean,
        std,
    )
