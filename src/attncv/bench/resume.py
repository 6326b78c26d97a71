"""What ``--resume`` may keep, checked before any run trains: the saved sweep as a whole (every
part the sweep and its table read), and its data against the data each device loads.

- :func:`check_saved`: a saved sweep's parts have the types the sweep writes (runs with a name,
  a seed, a dataset and their accuracies; failures with a name and a seed); else a ``ValueError``
  that names the file and the part, not a ``KeyError`` after the training;
- :func:`same_data`: the data a device loaded are the data of the runs kept, else
  :class:`~.cluster.Refused` (on Ray every task checks, as it checks the code, and the sweep
  stops): one table, one dataset, and no run trained for nothing;
- :func:`check_resume`, :func:`check_data_folder`: ``--resume`` needs ``--out``; a data folder
  given (``--data-dir``, ``$ATTNCV_DATA``) must be one.
"""

from __future__ import annotations

import os
from numbers import Real
from pathlib import Path
from typing import Any

from .cluster import Refused

RUN_FIELDS: dict[str, type | tuple[type, ...]] = {  # what the sweep and its table read
    "name": str,
    "title": str,
    "family": str,
    "seed": int,
    "dataset": str,
    "device": str,
    "best5_acc": Real,
    "final_acc": Real,
    "test_acc": list,
    "params": Real,
    "train_ips": Real,
}
PARTS: dict[str, type] = {"recipe": dict, "scale": dict, "data": str, "environment": dict}


def check_saved(raw: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """A ``ValueError`` naming ``path`` and the first part of ``raw`` (a saved sweep's fields)
    that is not what the sweep writes."""

    def bad(where: str, what: str) -> ValueError:
        return ValueError(f"{path} is not a sweep's JSON: {where} {what}.")

    for part, kind in PARTS.items():
        if not isinstance(raw.get(part), kind):
            raise bad(part, f"is not a JSON {_json_name(kind)}")
    if not isinstance(raw["recipe"].get("train"), dict):
        raise bad("recipe", "has no training config (train)")
    seen = set()
    for part, fields in (("runs", RUN_FIELDS), ("failed", {"name": str, "seed": int})):
        entries = raw.get(part)
        if not isinstance(entries, list):
            raise bad(part, "is not a JSON list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise bad(f"{part}[{i}]", "is not a JSON object")
            for key, kind in fields.items():
                value = entry.get(key)
                if not isinstance(value, kind) or isinstance(value, bool):
                    raise bad(f"{part}[{i}].{key}", f"is {value!r}, not a {_json_name(kind)}")
            if part != "runs":
                continue
            if not all(isinstance(a, Real) for a in entry["test_acc"]):
                raise bad(f"runs[{i}].test_acc", "holds something other than numbers")
            if (entry["name"], entry["seed"]) in seen:
                raise bad(f"runs[{i}]", f"repeats {entry['name']} seed {entry['seed']}")
            seen.add((entry["name"], entry["seed"]))


def _json_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "object", list: "list", str: "string", int: "whole number", Real: "number"}
    return names.get(kind, str(kind))  # type: ignore[call-overload]


def same_data(kept: str | None, loaded: str, out: str) -> None:
    """:class:`Refused` if the runs kept from ``out`` used ``kept`` and this device loaded other
    data (``loaded``, a :attr:`CifarData.description`)."""
    if kept is not None and loaded != kept:
        raise Refused(
            f"--resume: the runs kept in {out} used other data ({kept}) than this sweep loaded "
            f"({loaded}); one table, one dataset. Point --data-dir or ATTNCV_DATA at their data, "
            "or write to another --out."
        )


def check_resume(resume: bool, out: str | os.PathLike[str] | None) -> None:
    """``--resume`` keeps the runs of ``--out``: without one there is nothing to resume."""
    if resume and out is None:
        raise ValueError("--resume needs --out: the file whose runs it keeps and completes.")


def check_data_folder(data_dir: str | os.PathLike[str] | None, address: str | None) -> None:
    """A data folder named by ``--data-dir`` or ``$ATTNCV_DATA`` is a folder here (through Ray
    Client, ``ray://``, the folder is the cluster's, so it is not looked for here)."""
    if address is not None and address.startswith("ray://"):
        return
    given = data_dir if data_dir is not None else os.environ.get("ATTNCV_DATA") or None
    if given is not None and not Path(given).expanduser().is_dir():
        what = "--data-dir" if data_dir is not None else "$ATTNCV_DATA"
        raise ValueError(
            f"{what} {given} is not a folder; give the folder that holds cifar-100-python/, "
            "or leave it unset to use the cache."
        )
