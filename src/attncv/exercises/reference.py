"""The book's own answers, marked as such: ``@reference_solution`` on a hidden solution.

A chapter runs its grader on the hidden reference solution, so that the committed notebook
shows what a graded answer looks like. The grader's report then says whose code it checked
("Checked the hidden reference solution: all 7 checks pass. Your own version is graded the same
way.") instead of addressing the reader about code they did not write. The mark changes only
the wording, never the grade; student copies and nbgrader releases drop the solution cell, and
the mark with it.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")
MARK = "__attncv_reference_solution__"


def reference_solution(obj: T) -> T:
    """Mark ``obj`` (a class or function) as the book's reference solution; returns it."""
    setattr(obj, MARK, True)
    return obj


def is_reference_solution(obj: object) -> bool:
    """Marked by :func:`reference_solution` itself (a subclass or a wrapper is not)."""
    try:
        return vars(obj).get(MARK) is True
    except TypeError:  # no __dict__: a number, a partial's slots
        return False
