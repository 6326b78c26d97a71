"""Our own reader of the official CIFAR pickles (torchvision's classes refuse subsets: they check
the official files' checksums).

Every file is validated before it is used, so a damaged or foreign file fails here, naming the file
and what is wrong with it, and never later (a label of 150 would otherwise surface as a
device-side assert inside cross-entropy, a missing image would silently shorten every epoch):

- each pickle is a dict with the official keys;
- images are (N, 3072) bytes, with exactly one label per image;
- labels are integers in range: 0-99 fine and 0-19 coarse for CIFAR-100, 0-9 for CIFAR-10;
- the meta file names 100 fine and 20 coarse classes (CIFAR-100) or 10 classes (CIFAR-10).

Only ``data_batch_<number>`` files are CIFAR-10 training batches (not ``data_batch_1.part`` or
``data_batch_1 copy``).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .dataset import CifarData
from .errors import DataError
from .files import unreadable
from .layout import STATS

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_BATCH = re.compile(r"data_batch_\d+")  # the whole name: no .part files, no copies
CLASSES = {"CIFAR-100": (100, 20), "CIFAR-10": (10, None)}  # fine, coarse


def _remedy(dataset: str, folder: Path) -> str:
    """What to do about a broken file of ``dataset`` in ``folder``."""
    if dataset == "CIFAR-100":
        return (
            f"delete {folder} and let attncv download CIFAR-100 again, or copy the official "
            "files back into it"
        )
    return (
        f"copy the file into {folder} again from where that folder came from, or unpack the "
        f"official archive ({CIFAR10_URL}) there; attncv downloads only CIFAR-100, not CIFAR-10"
    )


def _unpickle(path: Path, dataset: str) -> dict:
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing: the {dataset} folder {path.parent} is incomplete. To fix it, "
            f"{_remedy(dataset, path.parent)}."
        ) from None
    except PermissionError:  # the file is there and whole: ask its owner, don't copy it
        raise DataError(
            f"{unreadable(path)}. Ask its owner to make it readable (chmod a+r), or point "
            "ATTNCV_DATA at a copy you can read."
        ) from None
    except Exception as exc:
        raise DataError(
            f"{path} could not be read ({type(exc).__name__}: {exc}): the file is truncated, "
            f"corrupt or not a CIFAR pickle. To fix it, {_remedy(dataset, path.parent)}."
        ) from None
    if not isinstance(batch, dict):
        raise DataError(
            f"{path} holds a {type(batch).__name__}, not the dict of an official {dataset} "
            f"pickle. To fix it, {_remedy(dataset, path.parent)}."
        )
    return batch


def _field(batch: dict, key: bytes, path: Path, dataset: str) -> object:
    if key not in batch:
        found = ", ".join(repr(k) for k in list(batch)[:8]) or "nothing"
        raise DataError(
            f"{path} has no {key!r} entry (it holds {found}), so it is not an official {dataset} "
            f"file. To fix it, {_remedy(dataset, path.parent)}."
        )
    return batch[key]


def _images(batch: dict, path: Path, dataset: str) -> Tensor:
    raw = np.asarray(_field(batch, b"data", path, dataset))
    ok = raw.ndim == 2 and raw.shape[1] == 3072 and np.issubdtype(raw.dtype, np.integer)
    if ok and raw.dtype != np.uint8 and raw.size:
        ok = 0 <= raw.min() and raw.max() <= 255
    if not ok:
        raise DataError(
            f"{path}: expected images as (N, 3072) bytes, got shape {raw.shape} of "
            f"{raw.dtype}: the file is not in the official {dataset} layout. To fix it, "
            f"{_remedy(dataset, path.parent)}."
        )
    return torch.from_numpy(raw.astype(np.uint8).reshape(-1, 3, 32, 32))  # channel-major rows


def _labels(batch: dict, key: bytes, path: Path, dataset: str, count: int, classes: int) -> Tensor:
    """Labels under ``key``: one integer in [0, classes) for each of ``count`` images."""
    raw = _field(batch, key, path, dataset)
    try:
        labels = np.asarray(raw)
        ok = labels.ndim == 1 and (labels.size == 0 or np.issubdtype(labels.dtype, np.integer))
    except Exception:
        ok = False
    if not ok:
        raise DataError(
            f"{path}: {key!r} must be a list of integer labels, got "
            f"{type(raw).__name__} {str(raw)[:60]}. To fix it, {_remedy(dataset, path.parent)}."
        )
    if len(labels) != count:
        raise DataError(
            f"{path} holds {count:,} images but {len(labels):,} {key.decode()}: every image needs "
            f"exactly one label. To fix it, {_remedy(dataset, path.parent)}."
        )
    bad = labels[(labels < 0) | (labels >= classes)]
    if bad.size:
        raise DataError(
            f"{path}: {key.decode()} must lie in 0-{classes - 1} ({dataset} has {classes} "
            f"classes there), but {bad.size:,} do not (for example {int(bad[0])}). To fix it, "
            f"{_remedy(dataset, path.parent)}."
        )
    return torch.from_numpy(labels.astype(np.int64))


def _names(meta: dict, key: bytes, path: Path, dataset: str, expected: int) -> list[str]:
    raw = _field(meta, key, path, dataset)
    if not isinstance(raw, list | tuple):
        raise DataError(
            f"{path}: {key!r} must be a list of class names, got {type(raw).__name__}. To fix "
            f"it, {_remedy(dataset, path.parent)}."
        )
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in raw]
    if len(names) != expected:
        raise DataError(
            f"{path} names {len(names)} classes under {key!r}; {dataset} has {expected}. The "
            f"file belongs to another dataset or is damaged. To fix it, "
            f"{_remedy(dataset, path.parent)}."
        )
    return names


def read_cifar100(path: str | os.PathLike[str]) -> CifarData:
    """Read and validate the official ``cifar-100-python`` pickles (whole or a subset)."""
    path = Path(path)
    d = "CIFAR-100"
    fine_n, coarse_n = CLASSES[d]
    meta_path = path / "meta"
    meta = _unpickle(meta_path, d)
    fine_names = _names(meta, b"fine_label_names", meta_path, d, fine_n)
    coarse_names = _names(meta, b"coarse_label_names", meta_path, d, coarse_n)
    split: dict[str, tuple[Tensor, Tensor, Tensor]] = {}
    for name in ("train", "test"):
        file = path / name
        batch = _unpickle(file, d)
        images = _images(batch, file, d)
        fine = _labels(batch, b"fine_labels", file, d, len(images), fine_n)
        coarse = _labels(batch, b"coarse_labels", file, d, len(images), coarse_n)
        split[name] = (images, fine, coarse)
    mean, std = STATS[d]
    (train_x, train_y, train_c), (test_x, test_y, test_c) = split["train"], split["test"]
    return CifarData(
        d,
        d,
        str(path),
        train_x,
        train_y,
        test_x,
        test_y,
        fine_names,
        mean,
        std,
        coarse_names,
        train_c,
        test_c,
    )


def cifar10_batches(path: Path) -> list[Path]:
    """The training batches of a ``cifar-10-batches-py`` folder: ``data_batch_<n>``, by n."""
    files = [p for p in path.iterdir() if CIFAR10_BATCH.fullmatch(p.name) and p.is_file()]
    return sorted(files, key=lambda p: int(p.name.rsplit("_", 1)[1]))


def read_cifar10(path: str | os.PathLike[str]) -> CifarData:
    """Read and validate the official ``cifar-10-batches-py`` pickles, however many training
    batches exist."""
    path = Path(path)
    d = "CIFAR-10"
    classes = CLASSES[d][0]
    meta_path = path / "batches.meta"
    names = _names(_unpickle(meta_path, d), b"label_names", meta_path, d, classes)
    files = cifar10_batches(path)
    if not files:
        raise DataError(
            f"{path} holds no data_batch_<number> file, so it is not a CIFAR-10 folder. To fix "
            f"it, {_remedy(d, path)}."
        )
    images, labels = [], []
    for file in files:
        batch = _unpickle(file, d)
        images.append(_images(batch, file, d))
        labels.append(_labels(batch, b"labels", file, d, len(images[-1]), classes))
    test_path = path / "test_batch"
    test = _unpickle(test_path, d)
    test_x = _images(test, test_path, d)
    test_y = _labels(test, b"labels", test_path, d, len(test_x), classes)
    mean, std = STATS[d]
    return CifarData(
        d,
        "CIFAR-10 (offline substitute for CIFAR-100)",
        str(path),
        torch.cat(images),
        torch.cat(labels),
        test_x,
        test_y,
        names,
        mean,
        std,
    )
