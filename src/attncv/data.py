"""CIFAR-100 for the course: found, downloaded or substituted, and always honest about which.

Paper: Alex Krizhevsky. *Learning Multiple Layers of Features from Tiny Images*. Tech. report, 2009.
https://www.cs.toronto.edu/~kriz/cifar.html

The course's dataset is CIFAR-100. :func:`load_cifar` looks for it in this order:

1. ``data_dir`` or ``$ATTNCV_DATA``: a folder holding the official ``cifar-100-python/`` layout
   (whole or a subset);
2. a download into a cache folder (``$ATTNCV_CACHE``, default ``~/.cache/attncv``) by
   :mod:`attncv.fetch`: the original host, else a mirror;
3. the real offline substitute: a ``cifar-10-batches-py/`` folder in the same places (a CIFAR-10
   subset ships with the course's machines), announced loudly;
4. a synthetic stand-in with learnable class structure, announced with a warning.

Every result carries :attr:`CifarData.description`, so nothing claims CIFAR-100 that ran on
CIFAR-10.
Images stay uint8 on the training device; crop, flip and normalisation run there per batch
(:mod:`attncv.augment`).
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .augment import augment, normalize

C100, C10 = "cifar-100-python", "cifar-10-batches-py"
STATS = {  # per-channel mean and std of each training set, in [0, 1]
    "CIFAR-100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "CIFAR-10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}


class DataError(RuntimeError):
    """The data could not be found or read; the message says where we looked and what to do."""


class DataSubstituteWarning(UserWarning):
    """CIFAR-100 was not available and a substitute dataset is used instead."""


@dataclass
class CifarData:
    """Images and labels of one dataset, train and test, as uint8 tensors on one device.

    Attributes:
        name: ``"CIFAR-100"``, ``"CIFAR-10"`` (the offline substitute) or ``"synthetic"``.
        description: one line saying what was used, including substitutes and subset sizes; it
            goes into every training result and plot title.
        source: the folder read, or ``"generated in memory"``.
        train_images, test_images: uint8 (N, 3, 32, 32).
        train_labels, test_labels: int64 (N,), fine labels.
        classes: class names, indexed by label.
        coarse_classes, train_coarse, test_coarse: CIFAR-100's 20 superclasses (else ``None``).
        mean, std: per-channel normalisation statistics of the dataset.
        transform: optional extra augmentation ``(uint8 batch, generator) -> uint8 batch`` run on
            the device after crop and flip (e.g. :func:`attncv.augment.distort`'s random affine).
    """

    name: str
    description: str
    source: str
    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    coarse_classes: list[str] | None = None
    train_coarse: Tensor | None = None
    test_coarse: Tensor | None = None
    transform: Callable[[Tensor, torch.Generator | None], Tensor] | None = None

    @property
    def substitute(self) -> bool:
        """True when this is not CIFAR-100."""
        return self.name != "CIFAR-100"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def to(self, device: str | torch.device) -> CifarData:
        """A copy with every tensor on ``device`` (images stay uint8: 3 KB per image)."""
        move = {
            f: getattr(self, f).to(device)
            for f in ("train_images", "train_labels", "test_images", "test_labels",
                      "train_coarse", "test_coarse")
            if getattr(self, f) is not None
        }
        return replace(self, **move)

    def split(self, split: str) -> tuple[Tensor, Tensor]:
        """(images, labels) of ``"train"`` or ``"test"``."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        return getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")

    def normalize(self, images: Tensor) -> Tensor:
        """uint8 (N, 3, H, W) -> normalised float32, on the images' device."""
        return normalize(images, self.mean, self.std)

    def batches(
        self,
        split: str = "train",
        batch_size: int = 256,
        *,
        shuffle: bool | None = None,
        augmented: bool | None = None,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        channels_last: bool = False,
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield normalised (images, labels) batches on the data's device.

        Training batches are shuffled and augmented (random crop with 4-pixel zero padding,
        horizontal flip) by default; test batches are neither.
        """
        images, labels = self.split(split)
        train = split == "train"
        shuffle = train if shuffle is None else shuffle
        augmented = train if augmented is None else augmented
        n = len(labels)
        order = (
            torch.randperm(n, device=self.device, generator=generator)
            if shuffle else torch.arange(n, device=self.device)
        )
        stop = n - n % batch_size if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            x = images[idx]  # uint8 (B, 3, 32, 32)
            if augmented:
                x = augment(x, generator=generator)
                x = self.transform(x, generator) if self.transform is not None else x
            x = self.normalize(x)  # float32 (B, 3, 32, 32)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, labels[idx]

    def __repr__(self) -> str:
        return f"CifarData({self.description})"


def load_cifar(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    per_class: int | None = None,
    test_per_class: int | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    strict: bool = False,
    download: bool | None = None,
    device: str | torch.device = "cpu",
) -> CifarData:
    """Load CIFAR-100 (or announce and load a substitute), optionally a class-balanced subset.

    Args:
        data_dir: folder holding ``cifar-100-python/`` (or ``cifar-10-batches-py/``); default
            ``$ATTNCV_DATA``.
        per_class, test_per_class: images per class to keep, chosen deterministically from
            ``seed``; ``None`` keeps all.
        train_size, test_size: alternatively, a total size spread evenly over the classes.
        seed: seed of the subset choice.
        strict: refuse substitutes: raise :class:`DataError` unless CIFAR-100 is found.
        download: download CIFAR-100 (:mod:`attncv.fetch`) when no local copy exists (default:
            yes, unless ``$ATTNCV_OFFLINE`` is set).
        device: where the uint8 tensors live (the training device).
    """
    folders = _folders(data_dir)
    tried: list[str] = []
    data = _find_cifar100(folders, tried, download)
    if data is None:
        if strict:
            raise DataError(_not_found(
                "CIFAR-100 was not found and strict=True refuses substitutes.", tried))
        data = _find_cifar10(folders, tried)
        if data is not None:
            _announce(f"CIFAR-100 is not available here (tried: {'; '.join(tried)}). Using the "
                      f"real CIFAR-10 subset in {data.source} instead: 10 classes, not 100. Every "
                      "result below is labelled with the dataset it used.")
        else:
            data = synthetic()
            _announce(f"Neither CIFAR-100 nor CIFAR-10 was found (tried: {'; '.join(tried)}). "
                      "Using a SYNTHETIC stand-in: numbers below say nothing about real images. "
                      "Set ATTNCV_DATA to a folder holding cifar-100-python/ to use real data.")
    data = subset(data, per_class=_per_class(per_class, train_size, data.num_classes, "train"),
                  test_per_class=_per_class(test_per_class, test_size, data.num_classes, "test"),
                  seed=seed)
    return data.to(device)


def _folders(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    given = data_dir if data_dir is not None else os.environ.get("ATTNCV_DATA") or None
    folders = []
    if given is not None:
        folder = Path(given).expanduser()
        what = "data_dir" if data_dir is not None else "$ATTNCV_DATA"
        if not folder.is_dir():
            raise DataError(
                f"{what} points to {folder}, which is not a folder. Give a folder that holds "
                f"{C100}/ (or {C10}/), or unset it to download CIFAR-100 into {cache_dir()}."
            )
        folders.append(folder)
    folders.append(cache_dir())
    return folders


def cache_dir() -> Path:
    """Where downloads go: ``$ATTNCV_CACHE`` or ``~/.cache/attncv``."""
    return Path(os.environ.get("ATTNCV_CACHE", "~/.cache/attncv")).expanduser()


_DOWNLOAD_FAILED: list[str] = []  # remember a failed download for the rest of the process


def _find_cifar100(
    folders: list[Path], tried: list[str], download: bool | None
) -> CifarData | None:
    for folder in folders:
        for path in (folder / C100, folder) if folder.name == C100 else (folder / C100,):
            if (path / "train").exists():
                return read_cifar100(path)
            tried.append(str(path))
    if download is None:
        download = not os.environ.get("ATTNCV_OFFLINE")
    if not download:
        tried.append("download (disabled)")
        return None
    if _DOWNLOAD_FAILED:
        tried.append(f"download ({_DOWNLOAD_FAILED[0]})")
        return None
    root = cache_dir()
    try:
        from .fetch import fetch_cifar100  # original host, then a mirror; checksums, watchdog

        path = fetch_cifar100(root)
    except Exception as exc:  # offline, throttled, disk full: fall back, and say why
        reason = f"failed: {type(exc).__name__}: {exc}"[:160]
        _DOWNLOAD_FAILED.append(reason)
        tried.append(f"download into {root} ({reason})")
        return None
    return read_cifar100(path)


def _find_cifar10(folders: list[Path], tried: list[str]) -> CifarData | None:
    for folder in folders:
        path = folder if folder.name == C10 else folder / C10
        if (path / "batches.meta").exists():
            return read_cifar10(path)
        tried.append(str(path))
    return None


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing. The folder {path.parent} looks incomplete: delete it and let "
            "attncv download CIFAR-100 again, or copy the file back.") from None
    except Exception as exc:
        raise DataError(f"{path} could not be read ({type(exc).__name__}: {exc}). The file is "
                        f"corrupt or not a CIFAR pickle: delete {path.parent} and download "
                        "again.") from None


def _images(batch: dict, path: Path) -> Tensor:
    raw = np.asarray(batch[b"data"], dtype=np.uint8)
    if raw.ndim != 2 or raw.shape[1] != 3072:
        raise DataError(f"{path}: expected images as (N, 3072) bytes, got shape {raw.shape}. "
                        "The file is not in the official CIFAR layout.")
    return torch.from_numpy(raw.reshape(-1, 3, 32, 32).copy())  # channel-major rows


def _names(meta: dict, key: bytes) -> list[str]:
    return [n.decode() if isinstance(n, bytes) else str(n) for n in meta[key]]


def read_cifar100(path: str | os.PathLike[str]) -> CifarData:
    """Read the official ``cifar-100-python`` pickles (whole or a subset) with our own reader."""
    path = Path(path)
    meta, train, test = (_unpickle(path / f) for f in ("meta", "train", "test"))
    labels = {s: torch.tensor(b[b"fine_labels"], dtype=torch.int64) for s, b in
              (("train", train), ("test", test))}
    coarse = {s: torch.tensor(b[b"coarse_labels"], dtype=torch.int64) for s, b in
              (("train", train), ("test", test))}
    mean, std = STATS["CIFAR-100"]
    return CifarData(
        "CIFAR-100", "CIFAR-100", str(path), _images(train, path / "train"), labels["train"],
        _images(test, path / "test"), labels["test"], _names(meta, b"fine_label_names"), mean,
        std, _names(meta, b"coarse_label_names"), coarse["train"], coarse["test"],
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
        "CIFAR-10", "CIFAR-10 (offline substitute for CIFAR-100)", str(path),
        torch.cat([_images(b, f) for b, f in zip(train, files, strict=True)]),
        torch.tensor([y for b in train for y in b[b"labels"]], dtype=torch.int64),
        _images(test, path / "test_batch"), torch.tensor(test[b"labels"], dtype=torch.int64),
        _names(meta, b"label_names"), mean, std,
    )


def synthetic(num_classes: int = 10, train_per_class: int = 500, test_per_class: int = 100,
              seed: int = 0) -> CifarData:
    """A learnable stand-in in the same layout: each class is a colour and a stripe orientation,
    with random phase, position and noise. Generated in memory; labelled ``synthetic``
    everywhere."""
    g = torch.Generator().manual_seed(seed)
    colours = torch.rand(num_classes, 3, 1, 1, generator=g) * 0.6 + 0.2
    angles = torch.arange(num_classes) * torch.pi / num_classes
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")

    def make(per_class: int) -> tuple[Tensor, Tensor]:
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        phase = torch.rand(len(labels), 1, 1, generator=g) * 2 * torch.pi
        a = angles[labels].view(-1, 1, 1)
        stripes = torch.sin((xx * torch.cos(a) + yy * torch.sin(a)) * 0.8 + phase)  # (N, 32, 32)
        img = colours[labels] * (0.75 + 0.25 * stripes[:, None])  # (N, 3, 32, 32)
        img = img + 0.08 * torch.randn(img.shape, generator=g)
        return (img.clamp(0, 1) * 255).to(torch.uint8), labels

    (xtr, ytr), (xte, yte) = make(train_per_class), make(test_per_class)
    mean = tuple(xtr.float().div(255).mean(dim=(0, 2, 3)).tolist())
    std = tuple(xtr.float().div(255).std(dim=(0, 2, 3)).tolist())
    return CifarData("synthetic", "synthetic stand-in (no real images)", "generated in memory",
                     xtr, ytr, xte, yte, [f"pattern {i}" for i in range(num_classes)], mean, std)


def balanced_indices(labels: Tensor, per_class: int, seed: int) -> Tensor:
    """Indices of ``per_class`` examples of every class, chosen by ``seed``, in shuffled order."""
    rng = np.random.default_rng(seed)
    labels_np = labels.cpu().numpy()
    chosen = []
    for c in np.unique(labels_np):
        members = np.flatnonzero(labels_np == c)
        if per_class > len(members):
            raise ValueError(f"Asked for {per_class} images of class {c}, but only "
                             f"{len(members)} exist. Use a smaller per_class.")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return torch.from_numpy(rng.permutation(np.concatenate(chosen)))


def subset(data: CifarData, *, per_class: int | None = None, test_per_class: int | None = None,
           seed: int = 0) -> CifarData:
    """A class-balanced, deterministic subset; ``None`` keeps a split whole."""
    changes: dict[str, object] = {}
    for split, k in (("train", per_class), ("test", test_per_class)):
        if k is None:
            continue
        idx = balanced_indices(getattr(data, f"{split}_labels"), k, seed)
        for f in ("images", "labels", "coarse"):
            t = getattr(data, f"{split}_{f}")
            if t is not None:
                changes[f"{split}_{f}"] = t[idx.to(t.device)]
    if not changes:
        return data
    new = replace(data, **changes)
    n_tr, n_te = len(new.train_labels), len(new.test_labels)
    base = data.description.split(" [")[0]
    new.description = f"{base} [subset: {n_tr:,} train / {n_te:,} test images, seed {seed}]"
    return new


def _per_class(
    per_class: int | None, total: int | None, num_classes: int, split: str
) -> int | None:
    if per_class is not None and total is not None:
        raise ValueError(f"Give {split} per_class or {split}_size, not both.")
    if total is not None:
        return max(1, total // num_classes)
    return per_class


def _announce(message: str) -> None:
    """Say loudly that a substitute is used: a coloured box in a notebook, a warning elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            display(HTML(
                '<div style="border-left:6px solid #d97706;background:#fff7ed;padding:8px 12px;'
                f'margin:6px 0"><b>Data substitute.</b> {message}</div>'
            ))
            return
    except ImportError:
        pass
    warnings.warn(message, DataSubstituteWarning, stacklevel=3)


def _not_found(head: str, tried: list[str]) -> str:
    return (f"{head}\nTried: " + "; ".join(tried) + f".\nFix: put the official {C100}/ folder "
            "(from https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz) in a folder and pass "
            "it as data_dir= or set ATTNCV_DATA to it, or connect to the internet so attncv "
            "can download it.")
