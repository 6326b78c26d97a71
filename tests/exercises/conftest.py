"""Fixtures for the graders' tests."""

from __future__ import annotations

import pytest

from attncv.exercises import honesty, watch


@pytest.fixture
def library_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the graders grade the library's own modules and subclasses of them.

    These tests check the numerical checks and hints, and write mistakes as short subclasses of
    the library's modules; the rule that refuses such answers is tested in test_honesty.py and
    test_watch.py. The watch still runs (and keeps the time limit), but lets the library run.
    """
    monkeypatch.setattr(honesty, "borrowed", lambda *args, **kwargs: None)
    monkeypatch.setattr(honesty, "borrowed_parts", lambda *args, **kwargs: None)
    monkeypatch.setattr(watch.Watch, "_check", lambda self, frame: None)
