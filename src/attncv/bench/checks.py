"""A sweep's arguments and output, checked before any data loads or any run trains; and a
result kept when its save fails after the training, instead of lost.

Every check raises ``ValueError`` with one line that names the option (``--epochs``) as the
command line spells it: ``python -m attncv.bench`` prints that line and exits with code 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol


class Saveable(Protocol):
    """A sweep's result (:class:`attncv.bench.sweep.Sweep`): a dataclass with ``save``."""

    def save(self, path: Any) -> Path: ...


SEED_LIMIT = 2**32  # numpy's and torch's seeds are below this


def check_numbers(
    *,
    seeds: Sequence[int] = (0,),
    epochs: int | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    width: int | None = None,
    cost_steps: int | None = None,
) -> None:
    """Overrides that are given must be whole numbers of at least one; seeds in [0, 2**32)."""
    for option, value in (
        ("--epochs", epochs),
        ("--train-size", train_size),
        ("--test-size", test_size),
        ("--width", width),
        ("--cost-steps", cost_steps),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{option} must be a whole number, not {value!r}.")
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, not {value}.")
    if not seeds:
        raise ValueError("--seeds needs at least one seed.")
    bad = [s for s in seeds if not isinstance(s, int) or not 0 <= s < SEED_LIMIT]
    if bad:
        raise ValueError(f"--seeds must be whole numbers from 0 to {SEED_LIMIT - 1}, not {bad}.")


def check_batches(train_size: int, batch_size: int) -> None:
    """At least one full batch: the loop drops the last partial batch, so fewer images than
    one batch would train no step at all (and every rate would divide by zero)."""
    if train_size < batch_size:
        raise ValueError(
            f"--train-size {train_size} is smaller than one batch of the recipe "
            f"({batch_size} images): no training step would run. Use at least {batch_size}."
        )


def check_out(out: str | os.PathLike[str] | None) -> None:
    """``out`` can be written: not a folder, its folder exists or can be made, and a file can
    be created there. Checked before the work, so a sweep never trains for nothing."""
    if out is None:
        return
    path = Path(out)
    if path.is_dir():
        raise ValueError(f"--out {path} is a folder; give the JSON file's path.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".check"):
            pass
    except OSError as exc:
        raise ValueError(f"--out {path} cannot be written: {exc.strerror or exc}.") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"--out {path} exists and cannot be overwritten (permission denied).")


class ResultKept(OSError):
    """The sweep finished but could not write its target; the result is in :attr:`kept`."""

    def __init__(self, message: str, kept: Path | None) -> None:
        super().__init__(message)
        self.kept = kept


def save_or_keep(result: Saveable, out: str | os.PathLike[str], *, final: bool = True) -> Path:
    """``result.save(out)``; if that fails, the result is written beside ``out`` (then in the
    working folder, then the temporary folder), or printed, and :class:`ResultKept` says where
    (``final=False``, for the checkpoints during a sweep: a warning, and the sweep goes on)."""
    try:
        return result.save(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    target = Path(out)
    name = f"{target.stem}.unsaved-{os.getpid()}{target.suffix or '.json'}"
    for folder in (target.parent, Path.cwd(), Path(tempfile.gettempdir())):
        try:
            kept = result.save(folder / name)
        except OSError:
            continue
        message = f"could not write {target} ({reason}); the result is in {kept}"
        break
    else:
        import json
        from dataclasses import asdict

        print(json.dumps(asdict(result), indent=1))  # type: ignore[call-overload]
        kept, message = None, f"could not write {target} ({reason}); the result is printed above"
    if final:
        raise ResultKept(message, kept)
    print(f"warning: {message}", file=sys.stderr)
    return kept or target
