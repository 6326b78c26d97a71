"""Train a ResNet-18 with a given attention module, or load the identical run from a cache.

Several chapters train the same baseline under the same profile; :func:`train_model` keys each run
by a hash of everything that determines it (attention and its arguments, stages, width, recipe,
the data's description and a fingerprint of its content, seed, the device with its name and CPU
thread count, and the library's own source), so a cached run is reused only when retraining would
repeat it, and any change to the code, the data or the recipe retrains.
Runs live in ``$ATTNCV_RUNS`` (default ``~/.cache/attncv/runs``); ``cache=False`` always trains.

The cache never costs a result: entries are written atomically under unique temporary names (two
kernels finishing the same run at once both succeed); a cache that cannot be written gives a
:class:`CacheWarning` and keeps the run in memory for the rest of the session; an entry that is
damaged is reported, moved aside (``<name>.pt.corrupt-<id>``) and trained again.

A cache can be shared by a group: entries get the mode the user's umask asks for (as ``open()``
would), an entry this user may not read (another user's, private) is reported with its owner and
left alone (the run trains and stays in memory), and a run being trained by another process
(a lock per run key, ``<name>.pt.lock``, which the group can take where it may write the cache)
is waited for and loaded, not trained twice; a lock that cannot be taken is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import CifarData
from ..data.files import SharedLock, shareable, unreadable, why_not
from ..env import device_name
from ..model import ResNet, resnet18
from .loop import fit, set_seed
from .profiles import Profile
from .result import FitResult


class CacheWarning(UserWarning):
    """The runs cache could not be read or written; the message says what was done instead."""


_MEMORY: dict[str, dict[str, Any]] = {}  # runs an unwritable cache could not keep, by file path
_FOREIGN: set[str] = set()  # entries this user may not read: never overwritten, never moved


def runs_dir() -> Path:
    return Path(os.environ.get("ATTNCV_RUNS", "~/.cache/attncv/runs")).expanduser()


TRAINING_CODE = ("env.py", "data", "attention", "model", "train")  # what a run depends on


def _source_hash() -> str:
    """A hash of the code that decides what a run computes: the layers from the data up to the
    training loop. Figures, benchmarks and the book's tools (views, bench, book, exercises) sit
    above them, so changing a plot does not retrain anything."""
    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for part in TRAINING_CODE:
        paths = [package / part] if part.endswith(".py") else sorted((package / part).rglob("*.py"))
        for path in paths:
            digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def run_key(
    attention: str,
    data: CifarData,
    profile: Profile,
    seed: int,
    attention_kwargs: dict | None,
    attention_stages: tuple[int, ...] | None,
    **overrides: object,
) -> str:
    spec = {
        "attention": attention,
        "kwargs": attention_kwargs or {},
        "stages": list(attention_stages) if attention_stages else None,
        "width": profile.width,
        "train": asdict(profile.train),
        "overrides": overrides,
        "data": data.description,
        "data_fingerprint": data.fingerprint(),
        "classes": data.num_classes,
        "seed": seed,
        "device": data.device.type,
        "device_name": device_name(data.device),  # a GPU's name; a CPU's thread count
        "source": _source_hash(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:20]


def train_model(
    attention: str,
    data: CifarData,
    profile: Profile,
    *,
    seed: int = 0,
    attention_kwargs: dict | None = None,
    attention_stages: tuple[int, ...] | None = None,
    name: str | None = None,
    cache: bool = True,
    progress: bool | str = True,
    on_epoch: Callable[[nn.Module], dict[str, float]] | None = None,
    **overrides: object,
) -> tuple[ResNet, FitResult]:
    """Build ResNet-18 with ``attention`` (seeded), train it under ``profile``, return both.

    ``overrides`` replace fields of the profile's :class:`~attncv.train.config.TrainConfig`;
    ``on_epoch`` (a library function, keyed by name) is passed to :func:`~attncv.train.loop.fit`.
    """
    recorder = f"{on_epoch.__module__}.{on_epoch.__qualname__}" if on_epoch else None
    key = run_key(
        attention,
        data,
        profile,
        seed,
        attention_kwargs,
        attention_stages,
        **overrides,
        **({"on_epoch": recorder} if recorder else {}),
    )
    path = runs_dir() / f"{attention}-{key}.pt"

    def build() -> ResNet:
        set_seed(seed)
        return resnet18(
            data.num_classes,
            attention=attention,
            attention_stages=attention_stages,
            attention_kwargs=attention_kwargs,
            width=profile.width,
        )

    model = build()
    saved = _read(path) if cache else None
    if saved is None and cache:
        with _training(path):  # another process training this run: wait, then load its result
            saved = _read(path)
            if saved is None:
                run = _fit(model, data, profile, seed, name, progress, on_epoch, overrides)
                _keep(path, *run)
                return run
    if saved is not None:
        try:
            model.load_state_dict(saved["state_dict"])
            result = FitResult(**saved["result"])
        except Exception as exc:  # a run of another shape under this name: not this run
            _set_aside(path, exc)
            model = build()  # the same fresh start as without a cache entry
        else:
            if name:
                result.name = name
            print(cached_line(result))
            return model.to(data.device).eval(), result
    run = _fit(model, data, profile, seed, name, progress, on_epoch, overrides)
    if cache:
        _keep(path, *run)
    return run


def _fit(
    model: ResNet,
    data: CifarData,
    profile: Profile,
    seed: int,
    name: str | None,
    progress: bool | str,
    on_epoch: Callable[[nn.Module], dict[str, float]] | None,
    overrides: dict[str, object],
) -> tuple[ResNet, FitResult]:
    result = fit(
        model,
        data,
        profile.train,
        seed=seed,
        name=name,
        progress=progress,
        on_epoch=on_epoch,
        **overrides,
    )
    return model.eval(), result


def cached_line(result: FitResult) -> str:
    """What a run loaded from the cache prints: which run, its result, where it came from (no
    file names or hashes: they mean nothing to a reader); the reason on a second, indented line,
    so that neither is wider than the book's 90 columns for a name of up to 30 characters."""
    epochs = len(result.history)
    return (
        f"{result.name}: test accuracy {result.final_acc:.1%} after {epochs} epoch"
        f"{'' if epochs == 1 else 's'}, loaded from the runs cache\n"
        "  (same code, data and settings)"
    )


def _keep(path: Path, model: ResNet, result: FitResult) -> None:
    """Cache the run at ``path``; in memory only where that entry is another user's."""
    payload = {"state_dict": model.state_dict(), "result": asdict(result)}
    if str(path) in _FOREIGN:
        _MEMORY[str(path)] = payload
    else:
        _write(path, payload)


def lock_path(path: Path) -> Path:
    """The lock held while the run cached at ``path`` trains."""
    return path.with_name(f"{path.name}.lock")


@contextlib.contextmanager
def _training(path: Path) -> Iterator[None]:
    """Hold the run's lock; where another process holds it, say so and wait. The lock file is
    one the cache's group can take (:class:`SharedLock`); where none can be taken (a read-only
    cache, another user's private lock), a :class:`CacheWarning` says so and the run trains
    without it."""
    lock = SharedLock(lock_path(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not lock.acquire(timeout=0):
            print("Another process is training this run; waiting for its result (runs cache).")
            lock.acquire()
    except OSError as exc:
        warnings.warn(
            f"Could not take the runs cache's lock {why_not(lock.path, exc)}. Training this run "
            "without it: another process training the same run now would train it too (to "
            "share a cache, its folder must be writable by the group).",
            CacheWarning,
            stacklevel=4,
        )
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _read(path: Path) -> dict[str, Any] | None:
    """The cached run at ``path`` (or kept in memory), ``None`` if there is none, if this user
    may not read it (reported, left alone) or if it is damaged (reported, moved aside)."""
    if str(path) in _MEMORY:
        return _MEMORY[str(path)]
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(saved, dict) or not {"state_dict", "result"} <= saved.keys():
            raise ValueError("not a cached run: no state_dict and result in it")
    except PermissionError:  # there and maybe whole, but not ours to read: never move it
        if str(path) not in _FOREIGN:
            _FOREIGN.add(str(path))
            warnings.warn(
                f"The cached run {unreadable(path)}; it is left where it is. Training the run "
                "again and keeping it in memory for this session (to share runs, the owner can "
                "chmod g+r them, or set ATTNCV_RUNS to a folder of your own).",
                CacheWarning,
                stacklevel=3,
            )
        return None
    except Exception as exc:
        _set_aside(path, exc)
        return None
    return saved


def _set_aside(path: Path, exc: BaseException) -> None:
    """Report an unreadable cache entry, move it aside and let the run train again."""
    _MEMORY.pop(str(path), None)
    aside = path.with_name(f"{path.name}.corrupt-{uuid.uuid4().hex[:8]}")
    try:
        path.replace(aside)
        where = f"moved it to {aside.name} (delete it when you like)"
    except OSError as move_error:
        where = f"could not move it aside ({move_error}); delete it by hand"
    warnings.warn(
        f"The cached run {path} cannot be used ({type(exc).__name__}: {str(exc)[:200]}); "
        f"{where}. Training the run again.",
        CacheWarning,
        stacklevel=3,
    )


def _write(path: Path, payload: dict[str, Any]) -> None:
    """Save atomically under a unique temporary name; if the cache is not writable, warn and
    keep the run in memory for this session."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        shareable(tmp)  # mkstemp made it 0600: give it the mode open() would
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # read-only, full, gone: torch raises RuntimeError too
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        state = {k: v.detach().to("cpu", copy=True) for k, v in payload["state_dict"].items()}
        _MEMORY[str(path)] = payload | {"state_dict": state}
        warnings.warn(
            f"Could not save this run in the runs cache {path.parent} ({type(exc).__name__}: "
            f"{exc}). It is kept in memory for this session only. To keep runs between "
            "sessions, make that folder writable or set ATTNCV_RUNS to a folder that is.",
            CacheWarning,
            stacklevel=3,
        )
