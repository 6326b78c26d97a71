"""The Colab first cell, run as Colab would run it (a fake ``google.colab`` module and IPython
shell): the GPU is checked before anything slow, and no failure can abort "Run all"."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from attncv.book.colab import FIRST_CELL


class Shell:
    """Stands for Colab's IPython: records the magics the cell runs, in order with its prints."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def run_line_magic(self, name: str, line: str) -> None:
        self.events.append(f"%{name} {line}")


def run_cell(monkeypatch, *, gpu: bool, fetch=None) -> list[str]:
    events: list[str] = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("colab"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    if fetch is not None:
        monkeypatch.setattr("attncv.data.fetch.fetch_cifar100", fetch)
    namespace = {
        "get_ipython": lambda: Shell(events),
        "print": lambda *args, **kw: events.append(" ".join(map(str, args))),
    }
    exec(compile(FIRST_CELL, "<first cell>", "exec"), namespace)
    return events


def test_a_failed_download_does_not_abort_run_all(monkeypatch) -> None:
    """The download used to raise out of the first cell, although load_cifar falls back."""

    def offline() -> None:
        raise OSError("Temporary failure in name resolution")

    events = run_cell(monkeypatch, gpu=True, fetch=offline)
    assert events[0].startswith("%pip install")
    assert "could not be downloaded now (OSError: Temporary failure" in events[-1]
    assert "substitute" in events[-1]


def test_the_gpu_is_checked_before_the_install_and_the_download(monkeypatch) -> None:
    """The GPU check used to come after the 161 MB download: switching the runtime then
    repeated everything. Without a GPU the reader learns it first, and nothing is downloaded."""
    calls = []
    events = run_cell(monkeypatch, gpu=False, fetch=lambda: calls.append(1))
    assert "No GPU" in events[0] and "Change runtime type" in events[0]
    assert events[1].startswith("%pip install")
    assert not calls  # the download waits until a cell needs the data


def test_on_a_gpu_the_data_is_downloaded_up_front(monkeypatch) -> None:
    calls = []
    events = run_cell(monkeypatch, gpu=True, fetch=lambda: calls.append(1))
    assert calls == [1] and not any("No GPU" in e for e in events)


def test_a_failed_install_says_what_to_do(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    events = run_cell(monkeypatch, gpu=True, fetch=pytest.fail)
    assert "Installing attncv failed" in events[-1] and "run this cell again" in events[-1]


def test_outside_colab_the_cell_does_nothing(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace = {"get_ipython": pytest.fail}
    exec(compile(FIRST_CELL, "<first cell>", "exec"), namespace)
