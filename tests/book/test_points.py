"""Every exercise of every chapter has points, and is graded: by a check_*() grader cell, or by
hand against the book's written solution (and then its solution code, if any, is listed as
graded by hand on purpose)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from attncv.book.assign import problems
from attncv.book.points import GRADED_BY_HAND, POINTS
from attncv.book.structure import parse

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(
    p.relative_to(ROOT)
    for p in (ROOT / "chapters").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def labels() -> set[str]:
    return {
        e.label
        for path in CHAPTERS
        for e in parse(nbformat.read(ROOT / path, as_version=4)).exercises
    }


@pytest.mark.parametrize("path", CHAPTERS, ids=str)
def test_every_exercise_has_points_and_a_grader(path):
    chapter = parse(nbformat.read(ROOT / path, as_version=4))
    assert chapter.exercises, f"{path}: no exercises"
    found = problems(chapter)
    assert not found, f"{path}: " + "; ".join(found)


def test_points_name_only_exercises_that_exist():
    stale = sorted(set(POINTS) - labels())
    assert not stale, f"points.py gives points to exercises no chapter has: {stale}"
    assert GRADED_BY_HAND <= set(POINTS)


def test_points_are_positive_numbers():
    assert all(isinstance(p, int | float) and p > 0 for p in POINTS.values())
