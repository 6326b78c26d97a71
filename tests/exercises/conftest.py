"""Fixtures for the graders' tests."""

from __future__ import annotations

import pytest

from attncv.exercises import honesty


@pytest.fixture
def library_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the graders grade the library's own modules and subclasses of them.

    These tests check the numerical checks and hints, and write mistakes as short subclasses of
    the library's modules; the rule that refuses such answers is tested in test_honesty.py.
    """
    monkeypatch.setattr(honesty, "borrowed", lambda *args, **kwargs: None)
    monkeypatch.setattr(honesty, "borrowed_parts", lambda *args, **kwargs: None)
