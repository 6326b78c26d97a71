"""Small helpers for the chapter notebooks: show live source, detect Colab, describe the run."""

from __future__ import annotations

import inspect
import sys

import torch


def show_source(obj: object):
    """The source of a library object as a highlighted code block (the page can't drift from it)."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def environment() -> str:
    """One line naming the Python, torch and device a notebook ran with."""
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    return (f"Python {sys.version.split()[0]}, torch {torch.__version__}, device: {dev}, "
            f"{torch.get_num_threads()} CPU threads")
