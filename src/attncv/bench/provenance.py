"""Where a benchmark's numbers came from: library versions, devices, git commit, command line."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ..env import device_name


def environment(devices: Sequence[str], git: dict[str, Any] | None = None) -> dict[str, Any]:
    """Library versions, devices, git commit and command line of this process."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "attncv": _version("attncv"),
        "platform": platform.platform(),
        "devices": [device_name(d) for d in devices],
        "cuda": torch.version.cuda,
        "command": " ".join([program(), *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    timm = _version("timm")
    if timm:
        env["timm"] = timm
    env.update(git or git_commit())
    return env


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def program() -> str:
    """How this process was started: ``python -m attncv.bench`` rather than a file path."""
    path = Path(sys.argv[0])
    return "python -m attncv.bench" if path.parent.name == "bench" else path.name


def git_commit() -> dict[str, Any]:
    """The commit this code came from, and whether the package's files differ from it.

    Where git cannot say (a copy of the tree without ``.git``, as on a borrowed GPU machine),
    ``$ATTNCV_GIT_COMMIT`` and ``$ATTNCV_GIT_DIRTY`` (``1`` or ``0``), set by whoever made the
    copy, stand in for it (``scripts/gpu_prepare.py`` records them).
    """
    here = Path(__file__).parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        return {
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(git("status", "--porcelain", "--", "..")),
        }
    except (OSError, subprocess.SubprocessError):
        told = os.environ.get("ATTNCV_GIT_COMMIT")
        if told:
            return {"git_commit": told, "git_dirty": os.environ.get("ATTNCV_GIT_DIRTY") == "1"}
        return {"git_commit": None}
