"""Verdicts: what a paper observed, what this run found, and whether they agree.

Every module chapter ends its "What it learned" section with a :class:`Verdict` computed from the
run's own numbers, never a sentence that assumes the paper's result. A verdict has three parts:

- ``paper``: the observation, with its citation ("late excitations are class-specific, early ones
  shared (Hu et al. 2018, Fig. 6)");
- ``run``: what this run measured, with the numbers;
- ``holds``: ``True`` (the paper's pattern holds on this run), ``False`` (this run shows the
  opposite) or ``None`` (the effect is too small to tell either way).

:func:`judge` turns a statistic into ``holds`` with a dead band around the no-effect value, so a
difference inside the noise is called inconclusive rather than a win or a loss. The functions that
compute each chapter's statistic and verdict live with its figures (:mod:`.channel`,
:mod:`.spatial`, :mod:`.mixed`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

WIDTH = 90  # columns, as every text output of the book

OUTCOMES = {
    True: "the paper's observation holds on this run.",
    False: "this run shows the opposite of the paper's observation.",
    None: "too small to tell on this run: neither the paper's pattern nor its opposite.",
}
NOTES_OUTCOMES = {
    True: "the notes' claim holds on this table.",
    False: "this table contradicts the notes' claim.",
    None: "this table cannot tell: the differences are within the noise of its seeds.",
}


@dataclass(frozen=True)
class Verdict:
    """The paper's observation, this run's finding, and whether they agree."""

    paper: str
    run: str
    holds: bool | None
    note: str = ""
    source: str = "Paper"  # whose observation: "Paper", or "Notes" for the course's source notes

    @property
    def outcome(self) -> str:
        """One line: the verdict itself."""
        return (NOTES_OUTCOMES if self.source == "Notes" else OUTCOMES)[self.holds]

    def __str__(self) -> str:
        parts = [(self.source, self.paper), ("This run", self.run), ("Verdict", self.outcome)]
        parts += [("Note", self.note)] if self.note else []
        return "\n".join(
            textwrap.fill(f"{label}: {text}", WIDTH, subsequent_indent="  ")
            for label, text in parts
        )

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # IPython shows the verdict as text when it ends a cell


def judge(
    statistic: float, *, expected: str, neutral: float = 0.0, band: float = 0.0
) -> bool | None:
    """Whether ``statistic`` shows the paper's effect: ``expected`` is ``"above"`` or ``"below"``
    the no-effect value ``neutral``. Within ``band`` of it the answer is ``None`` (too small to
    tell); beyond it on the expected side ``True``, on the other side ``False``."""
    if expected not in ("above", "below"):
        raise ValueError(f"expected must be 'above' or 'below', got {expected!r}.")
    if band < 0:
        raise ValueError(f"band must be >= 0, got {band!r}.")
    if statistic != statistic:  # NaN: nothing measured
        return None
    delta = statistic - neutral if expected == "above" else neutral - statistic
    if abs(delta) <= band:
        return None
    return delta > 0


def both(*holds: bool | None) -> bool | None:
    """Combine parts of one observation: ``True`` only if all hold, ``False`` if any shows the
    opposite, else ``None``."""
    if any(h is False for h in holds):
        return False
    return True if holds and all(h is True for h in holds) else None
