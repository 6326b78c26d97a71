"""CIFAR-100 for the course: found, downloaded or substituted, and always honest about which.

Paper: Alex Krizhevsky. *Learning Multiple Layers of Features from Tiny Images*. Tech. report, 2009.
https://www.cs.toronto.edu/~kriz/cifar.html

The course's dataset is CIFAR-100. :func:`load_cifar` looks for it in this order:

1. ``data_dir`` or ``$ATTNCV_DATA``: a folder holding the official ``cifar-100-python/`` layout
   (whole or a subset), or the CIFAR-10 substitute; a named folder that holds neither is an
   error, not a reason to fall back (the user asked for that folder);
2. a download into a cache folder (``$ATTNCV_CACHE``, default ``~/.cache/attncv``) by
   :mod:`attncv.data.fetch`: the original host, else a mirror;
3. the real offline substitute: a ``cifar-10-batches-py/`` folder in the same places (a CIFAR-10
   subset ships with the course's machines), announced loudly;
4. a synthetic stand-in with learnable class structure, announced with a warning.

Every result carries :attr:`CifarData.description`, so nothing claims CIFAR-100 that ran on
CIFAR-10.
Images stay uint8 on the training device; crop, flip and normalisation run there per batch
(:mod:`attncv.data.augment`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from ..env import env_flag, in_kernel
from .dataset import CifarData
from .errors import DataError, DataSubstituteWarning
from .fetch import fetch_cifar100
from .layout import C10, C100, C100_URL, cache_dir
from .read import read_cifar10, read_cifar100
from .subset import subset
from .synthetic import synthetic


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
        download: download CIFAR-100 (:mod:`attncv.data.fetch`) when no local copy exists (default:
            yes, unless ``$ATTNCV_OFFLINE`` is 1, true, yes or on).
        device: where the uint8 tensors live (the training device).
    """
    folders = _folders(data_dir)
    tried: list[str] = []
    data = _find_cifar100(folders, tried, download)
    if data is None:
        if strict:
            raise DataError(
                _not_found("CIFAR-100 was not found and strict=True refuses substitutes.", tried)
            )
        data = _find_cifar10(folders, tried)
        if data is not None:
            _announce(
                f"CIFAR-100 is not available here (tried: {'; '.join(tried)}). Using the "
                f"real CIFAR-10 subset in {data.source} instead: 10 classes, not 100. Every "
                "result below is labelled with the dataset it used."
            )
        else:
            data = synthetic()
            _announce(
                f"Neither CIFAR-100 nor CIFAR-10 was found (tried: {'; '.join(tried)}). "
                "Using a SYNTHETIC stand-in: numbers below say nothing about real images. "
                "Set ATTNCV_DATA to a folder holding cifar-100-python/ to use real data."
            )
    data = subset(
        data,
        per_class=_per_class(per_class, train_size, data.num_classes, "train"),
        test_per_class=_per_class(test_per_class, test_size, data.num_classes, "test"),
        seed=seed,
    )
    return data.to(device)


def _folders(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    """The folders to search: the one the user named (``data_dir`` or ``$ATTNCV_DATA``), if any,
    then the cache. A named folder must hold a dataset: the user asked for that folder, so
    nothing else quietly stands in for it."""
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
        if not _holds_dataset(folder):
            raise DataError(
                f"{what} points to {folder}, which holds neither {C100}/ nor {C10}/. Put the "
                f"official {C100}/ folder there (from {C100_URL}), point {what} to the folder "
                f"that holds it, or leave {what} unset to let attncv download CIFAR-100 into "
                f"{cache_dir()} (or fall back to a substitute, announced)."
            )
        folders.append(folder)
    folders.append(cache_dir())
    return folders


def _holds_dataset(folder: Path) -> bool:
    return folder.name in (C100, C10) or any((folder / n).is_dir() for n in (C100, C10))


_DOWNLOAD_FAILED: list[str] = []  # remember a failed download for the rest of the process


def _find_cifar100(
    folders: list[Path], tried: list[str], download: bool | None
) -> CifarData | None:
    cache = cache_dir()
    for folder in folders:
        for path in (folder / C100, folder) if folder.name == C100 else (folder / C100,):
            named = folder != cache  # the user's folder: an incomplete copy is an error
            if (path / "train").exists() or (named and path.is_dir()):
                return read_cifar100(path)
            tried.append(str(path))
    if download is None:
        download = not env_flag("ATTNCV_OFFLINE")
    if not download:
        tried.append("download (disabled)")
        return None
    if _DOWNLOAD_FAILED:
        tried.append(f"download ({_DOWNLOAD_FAILED[0]})")
        return None
    root = cache_dir()
    try:  # the original host, then a mirror; checksums, watchdog
        path = fetch_cifar100(root)
    except Exception as exc:  # offline, throttled, disk full: fall back, and say why
        reason = " ".join(f"failed: {type(exc).__name__}: {exc}".split())  # whole, on one line
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


def _per_class(
    per_class: int | None, total: int | None, num_classes: int, split: str
) -> int | None:
    if per_class is not None and total is not None:
        raise ValueError(f"Give {split} per_class or {split}_size, not both.")
    if total is not None:
        return max(1, total // num_classes)
    return per_class


def portable(text: str) -> str:
    """``text`` with this machine's folders named the way a reader names them on theirs:
    ``$ATTNCV_DATA``, ``$ATTNCV_CACHE`` (or ``~/.cache/attncv``) and ``~``, so a notebook's
    committed output shows no machine's paths."""
    names = []
    if os.environ.get("ATTNCV_DATA"):
        names.append((Path(os.environ["ATTNCV_DATA"]).expanduser(), "$ATTNCV_DATA"))
    cache = "$ATTNCV_CACHE" if os.environ.get("ATTNCV_CACHE") else "~/.cache/attncv"
    names.append((cache_dir(), cache))
    for path, name in names:
        for form in {str(path), str(path.resolve())}:
            text = text.replace(form.rstrip("/"), name)
    home = str(Path.home())
    return text.replace(home, "~") if home not in ("/", "") else text


def _announce(message: str) -> None:
    """Say loudly that a substitute is used: a coloured box in a notebook, a warning elsewhere."""
    if in_kernel():
        import html

        from IPython.display import HTML, display

        display(
            HTML(
                '<div style="border-left:6px solid #d97706;background:#fff7ed;padding:8px 12px;'
                'margin:6px 0;overflow-wrap:anywhere"><b>Data substitute.</b> '
                f"{html.escape(portable(message))}</div>"
            )
        )
        return
    warnings.warn(message, DataSubstituteWarning, stacklevel=3)


def _not_found(head: str, tried: list[str]) -> str:
    return (
        f"{head}\nTried: " + "; ".join(tried) + f".\nFix: put the official {C100}/ folder "
        f"(from {C100_URL}) in a folder and pass "
        "it as data_dir= or set ATTNCV_DATA to it, or connect to the internet so attncv "
        "can download it."
    )
