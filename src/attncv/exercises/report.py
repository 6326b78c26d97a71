"""A grader's report: the checks it ran, what failed and why (:class:`GradeReport`), shown as a
checklist in the notebook; and how what a reader's code raised, or a stop, becomes a failed check
(:func:`what_raised`, :func:`stopped`) instead of escaping the grader."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import honesty
from . import watch as watch_


class GradeFailure(AssertionError):
    """A grading that did not pass: the message names the first failed check and its hint.

    In a notebook it shows as one line, ``GradeFailure: <the message>``, under the grader's
    printed report, without a traceback into the grader: the fault is in the reader's code.
    """

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass
class GradeReport:
    """The outcome of a grading: one (check, passed, message) row per check run.

    ``reference``: the graded answer is the book's hidden reference solution
    (:func:`attncv.exercises.reference_solution`); the report says so instead of "your".
    """

    module: str
    rows: list[tuple[str, bool, str]] = field(default_factory=list)
    reference: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(ok for _, ok, _ in self.rows)

    def add(self, check: str, ok: bool, message: str = "") -> bool:
        self.rows.append((check, ok, message))
        return ok

    def __str__(self) -> str:
        who = f"the hidden reference solution ({self.module})" if self.reference else None
        lines = [f"Checking {who or f'your {self.module}'}:"]
        lines += [
            f"  {'✓' if ok else '✗'} {check}" + (f": {msg}" if msg else "")
            for check, ok, msg in self.rows
        ]
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self) -> str:
        """A statement of what passed, not a congratulation: in the book the graded answer is
        the hidden reference solution, not the reader's."""
        if not self.passed:
            return "Not yet: fix the first ✗ above and run the check again."
        n = len(self.rows)
        counted = "the one check passes" if n == 1 else f"all {n} checks pass"
        if self.reference:
            return (
                f"Checked the hidden reference solution: {counted}. "
                "Your own version is graded the same way."
            )
        return f"{counted[0].upper()}{counted[1:]}."

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failure(self) -> str:
        """The first failed check and its message (empty if all passed)."""
        if not self.rows:
            return f"{self.module}: no check ran"
        check, msg = next(((c, m) for c, ok, m in self.rows if not ok), ("", ""))
        return f"{self.module}: {check}" + (f": {msg}" if msg else "") if check else ""

    def assert_passed(self) -> None:
        """Raise :class:`GradeFailure` with :attr:`failure` unless every check passed: an
        autograder (nbgrader's test cells) then scores the cell zero and shows the message."""
        if not self.passed:
            raise GradeFailure(self.failure)


def stopped(report: GradeReport, stop: Exception) -> None:
    """The report of a grading the watch stopped: the library ran for the answer (the report is
    then that one refusal, nothing else is graded), or the time ran out."""
    if isinstance(stop, watch_.Refused):
        report.rows[:] = [(honesty.ROW, False, honesty.refusal(stop.detail))]
    else:
        seconds = getattr(stop, "seconds", watch_.TIME_LIMIT)
        report.add(
            "finishes in time",
            False,
            f"your code ran for more than {seconds:g} s, the grader's time limit: is there a "
            "loop that never ends?",
        )


def what_raised(exc: BaseException) -> str:
    try:
        text = str(exc).split("\n")[0].split(" Hint: enable anomaly detection")[0]  # torch's
    except BaseException as inner:  # noqa: BLE001 (a reader's exception whose str() raises)
        if isinstance(inner, KeyboardInterrupt):
            raise
        text = ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
