"""What every layer asks of the machine: the default device, its name, and whether a notebook
kernel is listening. The only module outside the layers; it imports nothing from attncv."""

from __future__ import annotations

import os
import platform
import sys

import torch


def default_device() -> str:
    """``"cuda"`` where torch sees a GPU, else ``"cpu"``: every "GPU or CPU" default."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_name(device: str | torch.device) -> str:
    """A device as results record it: the GPU's name, or the CPU with its thread count."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel, where HTML and widgets can be displayed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def describe() -> str:
    """One line naming the Python, torch and device this process runs with."""
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    return (
        f"Python {sys.version.split()[0]}, torch {torch.__version__}, device: {dev}, "
        f"{torch.get_num_threads()} CPU threads"
    )


_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(name: str, default: bool = False) -> bool:
    """An on/off environment variable: ``1``, ``true``, ``yes``, ``on`` mean yes; ``0``,
    ``false``, ``no``, ``off`` or empty mean no (so ``ATTNCV_OFFLINE=0`` is *not* offline);
    ``default`` when unset. Anything else is a ``ValueError`` that says what to write."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _YES or word in _NO:
        return word in _YES
    raise ValueError(
        f"${name}={value!r} is neither yes nor no: set it to 1 (or true, yes, on) or 0 (or "
        "false, no, off), or unset it."
    )


PROGRESS_MODES = ("auto", "log", "none")


def progress_mode(progress: bool | str) -> str:
    """Map a ``progress=`` argument to a mode: True -> ``$ATTNCV_PROGRESS`` or ``"auto"`` (a tqdm
    bar), ``"log"`` (plain lines, what the book shows), False -> ``"none"``."""
    if progress is True:
        progress = os.environ.get("ATTNCV_PROGRESS", "auto")
    elif progress is False:
        progress = "none"
    if progress not in PROGRESS_MODES:
        raise ValueError(
            f"progress must be True, False or one of {PROGRESS_MODES}, got {progress!r}."
        )
    return progress
