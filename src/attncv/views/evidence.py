"""Evidence and verdicts: a statistic of the trained network against its control, the band within
which a difference is noise, and what a paper observed set against what this run found.

One rule for the whole book: a statistic means something only next to its **control**, measured
the same way on the same units; the paper's observation **holds** only when the trained value
differs from its control, in the paper's direction, by more than a **band measured from the data**
at the book's one level (95%): a bootstrap over test images, canvases or channels
(:func:`bootstrap_band`). Beyond the band in the other direction it is the **opposite**; within it,
**too small to tell**; evidence that disagrees is **mixed** (:data:`MIXED`, :func:`both`).

:class:`Evidence` is one comparison; a :class:`Verdict` holds the paper's observation, this run's,
its evidence and the outcome in words. It shows as a styled callout (HTML) and carries a JSON
record (:data:`RECORD_MIME`) in the same output. :mod:`.verdicts` adds the accuracy verdicts and
re-exports everything here, so chapters import from one place.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..train.result import json_number
from .bands import bootstrap_band, draws_band
from .evidence_words import (
    band_decimals,
    band_how,
    draws_band_how,
    level_text,
)
from .glue import glue as _glue

WIDTH = 90  # columns, as every text output of the book


class _Mixed(str):
    """The fourth outcome: the evidence disagrees. A string (``"mixed"``, as the JSON record
    writes it) that refuses to be read as true or false, so ``if verdict.holds:`` cannot take a
    mixed verdict for one that holds: compare with ``is MIXED``."""

    def __bool__(self) -> bool:
        raise TypeError("a mixed outcome is neither true nor false: compare with `is MIXED`.")

    def __reduce__(self) -> str:
        return "MIXED"  # copies and pickles stay the one constant


MIXED = _Mixed("mixed")  # a verdict whose evidence disagrees: some holds, some the opposite
Outcome = bool | None | str  # True, False, None or MIXED

OUTCOMES = {
    True: "the paper's observation holds on this run.",
    False: "this run shows the opposite of the paper's observation.",
    None: "too small to tell on this run: neither the paper's pattern nor its opposite.",
    MIXED: "mixed on this run: part of the evidence bears the paper's observation out and part "
    "shows the opposite.",
}
NOTES_OUTCOMES = {
    True: "the notes' claim holds on this table.",
    False: "this table contradicts the notes' claim.",
    None: f"this table cannot tell: the differences are within their {level_text()} bands.",
    MIXED: "this table is mixed: part of it bears the notes' claim out and part contradicts it.",
}
SHORT = {True: "holds", False: "the opposite", None: "too small to tell", MIXED: "mixed"}
KINDS = {True: "holds", False: "opposite", None: "unclear", MIXED: "mixed"}  # the callout's class
# A verdict's machine-readable record, stored beside its HTML in the notebook's output (a second
# MIME type): what scripts/verdict_table.py and the tests read, never the printed text.
RECORD_MIME = "application/vnd.attncv.verdict+json"
RECORD_VERSION = 1


def judge(
    statistic: float, *, expected: str, neutral: float = 0.0, band: float = 0.0
) -> bool | None:
    """Whether ``statistic`` shows the paper's effect: ``expected`` is ``"above"`` or ``"below"``
    the no-effect value ``neutral``. Within ``band`` of it the answer is ``None`` (too small to
    tell); beyond it on the expected side ``True``, on the other side ``False``."""
    if expected not in ("above", "below"):
        raise ValueError(f"expected must be 'above' or 'below', got {expected!r}.")
    if band < 0 or band != band:
        raise ValueError(f"band must be a number >= 0, got {band!r}.")
    if statistic != statistic:  # NaN: nothing measured
        return None
    delta = statistic - neutral if expected == "above" else neutral - statistic
    if abs(delta) <= band:
        return None
    return delta > 0


def agree(*holds: Outcome) -> Outcome:
    """Combine *repeats* of one measurement (training seeds): an outcome only where every repeat
    shows it (``True`` or ``False``), :data:`MIXED` where some hold and some show the opposite,
    else ``None`` (too small to tell). Unlike :func:`both` (parts of one observation), one
    repeat's opposite beside another's too-small-to-tell is not a finding."""
    if any(h is MIXED for h in holds) or (True in holds and False in holds):
        return MIXED
    if holds and all(h is True for h in holds):
        return True
    if holds and all(h is False for h in holds):
        return False
    return None


def both(*holds: Outcome) -> Outcome:
    """Combine parts of one observation: ``True`` only if all hold; :data:`MIXED` if some hold
    and some show the opposite (or a part is itself mixed); ``False`` if some show the opposite
    and none holds; else ``None`` (too small to tell)."""
    if any(h is MIXED for h in holds):
        return MIXED
    opposite, held = any(h is False for h in holds), any(h is True for h in holds)
    if opposite:
        return MIXED if held else False
    return True if holds and all(h is True for h in holds) else None


@dataclass(frozen=True)
class Evidence:
    """One comparison: a statistic of the trained network against its control, and the band
    within which a difference is noise.

    ``expected`` is the paper's direction: ``"above"`` (trained above the control) or
    ``"below"``. ``fmt`` formats the numbers (``".2f"``; ``".1%"`` for shares and accuracies).
    """

    statistic: str  # what is measured, in words: "query dependence (TV) at layer2.1"
    trained: float
    control: float
    control_label: str  # a control of .evidence_words: "the network before training"
    band: float  # differences within +-band are noise
    band_how: str  # .evidence_words.band_how: "95% paired bootstrap over 1,000 test images"
    expected: str = "above"
    fmt: str = ".2f"

    def __post_init__(self) -> None:
        judge(0.0, expected=self.expected, band=self.band)  # validates expected and band

    @classmethod
    def paired(
        cls,
        statistic: str,
        trained: torch.Tensor,
        control: torch.Tensor,
        control_label: str,
        *,
        units: str = "test images",
        expected: str = "above",
        fmt: str = ".2f",
    ) -> Evidence:
        """The mean of per-unit values (one per test image, canvas or channel) of the trained
        network against the same units' control values, the band a paired
        :func:`bootstrap_band`; ``units`` says what was resampled (its text:
        :func:`~.evidence_words.band_how`)."""
        how = band_how(torch.as_tensor(trained).numel(), units, paired=True)
        return cls(
            statistic,
            torch.as_tensor(trained).double().mean().item(),
            torch.as_tensor(control).double().mean().item(),
            control_label,
            bootstrap_band(trained, control),
            how,
            expected,
            fmt,
        )

    @classmethod
    def over_draws(
        cls,
        statistic: str,
        trained: torch.Tensor,
        controls: torch.Tensor,
        control_label: str,
        *,
        units: str = "test canvases",
        expected: str = "above",
        fmt: str = ".2f",
    ) -> Evidence:
        """The trained network's per-unit values (N,) against a control made of random draws,
        ``controls`` (D, N): the same N units through each of D draws (re-drawn gates, random
        query/key). The control is the mean over draws and units; the band a bootstrap that
        resamples the units (paired) and the draws together (:func:`draws_band`), so it holds
        both the test set's noise and the draw's."""
        t = torch.as_tensor(trained, dtype=torch.float64).flatten()
        c = torch.as_tensor(controls, dtype=torch.float64)
        if c.dim() != 2 or c.shape[1] != t.numel():
            raise ValueError(
                f"controls must be (draws, units) = (D, {t.numel()}), got {tuple(c.shape)}."
            )
        return cls(
            statistic,
            t.mean().item(),
            c.mean().item(),
            control_label,
            draws_band(t, c),
            draws_band_how(t.numel(), units, c.shape[0]),
            expected,
            fmt,
        )

    @property
    def difference(self) -> float:
        return self.trained - self.control

    @property
    def holds(self) -> bool | None:
        return judge(self.difference, expected=self.expected, band=self.band)

    def _decimals(self) -> int | None:
        """The decimals every number of this evidence is printed with: the format's, or more
        where the band needs them (:func:`~.evidence_words.band_decimals`), so the band never
        shows less precision than the difference it bounds."""
        m = re.fullmatch(r"\.(\d+)([f%])", self.fmt)
        if m is None:
            return None  # a format of another kind: printed as given
        scale = 100 if m.group(2) == "%" else 1
        return band_decimals(self.band * scale, int(m.group(1)))

    def _f(self, value: float, signed: bool = False) -> str:
        decimals = self._decimals()
        sign = "+" if signed else ""
        if self.fmt.endswith("%"):
            digits = f".{decimals}" if decimals is not None else (self.fmt[:-1] or ".1")
            number = format(value * 100, sign + digits + "f")
            return f"{number} points" if signed else f"{number}%"
        fmt = f".{decimals}f" if decimals is not None else self.fmt
        return format(value, sign + fmt)

    def text(self) -> str:
        """One sentence: trained against control, the difference and its band."""
        side = "outside" if abs(self.difference) > self.band else "within"
        band = self._f(self.band, True).lstrip("+")
        return (
            f"{self.statistic}: {self._f(self.trained)} trained against {self._f(self.control)} "
            f"for {self.control_label}, a difference of {self._f(self.difference, True)}, "
            f"{side} the noise band of ±{band} ({self.band_how})."
        )

    def record(self) -> dict[str, object]:
        """The comparison as plain data (JSON): the numbers, the control, the band and how it
        was measured, the outcome, and the table cells the book shows (:meth:`row`)."""
        return {
            "statistic": self.statistic,
            "trained": json_number(self.trained),
            "control": json_number(self.control),
            "control_label": self.control_label,
            "difference": json_number(self.difference),
            "band": json_number(self.band),
            "band_how": self.band_how,
            "expected": self.expected,
            "holds": self.holds,
            "outcome": SHORT[self.holds],
            "cells": self.row(),
        }

    def row(self) -> list[str]:
        """Cells for a table: statistic, trained, control, difference, band, outcome."""
        band = self._f(self.band, True).lstrip("+")
        return [
            self.statistic,
            self._f(self.trained),
            f"{self._f(self.control)} ({self.control_label})",
            self._f(self.difference, True),
            f"±{band} ({self.band_how})",
            SHORT[self.holds],
        ]


@dataclass(frozen=True)
class Verdict:
    """The paper's observation, this run's finding, its evidence, and whether they agree.

    ``holds`` defaults to what ``evidence`` says together (:func:`both`; :func:`agree` where the
    evidence is ``repeats`` of one measurement, such as training seeds): ``True``, ``False``,
    ``None`` or :data:`MIXED`; ``words`` maps each outcome (``True``, ``False``, ``None``, and
    :data:`MIXED` where the builder words it) to a sentence saying what the run found, which
    :attr:`finding` picks, so the outcome is always told in words after the verdict (a mixed
    verdict without words says which evidence disagrees).
    """

    paper: str
    run: str
    holds: Outcome = None
    note: str = ""
    source: str = "Paper"  # whose observation: "Paper", or "Notes" for the course's source notes
    evidence: tuple[Evidence, ...] = ()
    words: Mapping[Outcome, str] = field(default_factory=dict)
    anchor: str = field(default="", compare=False)  # the callout's id: set by glue(prefix)
    repeats: bool = False  # the evidence is repeats (seeds) of one measurement: agree(), not both()

    def __post_init__(self) -> None:
        if isinstance(self.holds, str) and self.holds == MIXED:  # "mixed", e.g. from a record
            object.__setattr__(self, "holds", MIXED)
        if not (self.holds is None or self.holds is MIXED or isinstance(self.holds, bool)):
            raise ValueError(f"holds must be True, False, None or MIXED, got {self.holds!r}.")
        if self.evidence and self.holds is None:
            combine = agree if self.repeats else both
            object.__setattr__(self, "holds", combine(*(e.holds for e in self.evidence)))

    @property
    def outcome(self) -> str:
        """One line: the verdict itself."""
        return (NOTES_OUTCOMES if self.source == "Notes" else OUTCOMES)[self.holds]

    @property
    def short(self) -> str:
        """The outcome in a few words: "holds", "the opposite", "too small to tell", "mixed"."""
        return SHORT[self.holds]

    @property
    def finding(self) -> str:
        """What this run found, in a sentence (from ``words``; else the outcome). A mixed verdict
        without words for it takes the builder's one sentence where its words are the same for
        every outcome, else says which evidence holds and which shows the opposite."""
        words = self.words.get(self.holds, "")
        if words:
            return words
        if self.holds is MIXED:
            same = {self.words.get(o, "") for o in (True, False, None)}
            if len(same) == 1 and "" not in same:  # one sentence for every outcome: it words
                return same.pop()  # the evidence itself, so it serves a mixed verdict too
            if self.evidence:
                return self._disagreement()
        return self.outcome[0].upper() + self.outcome[1:]

    def _disagreement(self) -> str:
        """What disagrees, in a sentence: the evidence that holds and the evidence that shows
        the opposite, each named by its statistic and control."""

        def name(e: Evidence) -> str:  # the statistic, and its control unless it names it
            if e.control_label in e.statistic:
                return e.statistic
            return f"{e.statistic} against {e.control_label}"

        held = [name(e) for e in self.evidence if e.holds is True]
        opposite = [name(e) for e in self.evidence if e.holds is False]
        if not held or not opposite:  # a mixed outcome set by hand, not by its evidence
            return self.outcome[0].upper() + self.outcome[1:]
        whose = "the notes' claim" if self.source == "Notes" else "the paper's observation"
        return (
            f"The evidence disagrees: it bears {whose} out for {join_names(held)}, and shows "
            f"the opposite for {join_names(opposite)}."
        )

    def __str__(self) -> str:
        parts = [(self.source, self.paper), ("This run", self.run)]
        parts += [("Evidence", e.text()) for e in self.evidence]
        parts += [("Verdict", self.outcome)]
        parts += [("In words", self.finding)] if self.words else []
        parts += [("Note", self.note)] if self.note else []
        return "\n".join(
            textwrap.fill(f"{label}: {text}", WIDTH, subsequent_indent="  ")
            for label, text in parts
        )

    def record(self) -> dict[str, object]:
        """The verdict as plain data (JSON): whose observation, this run's, the outcome and its
        sentence, and every piece of evidence (:meth:`Evidence.record`)."""
        return {
            "version": RECORD_VERSION,
            "source": self.source,
            "paper": self.paper,
            "run": self.run,
            "holds": self.holds,
            "outcome": self.short,
            "finding": self.finding,
            "note": self.note,
            "evidence": [e.record() for e in self.evidence],
        }

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, object]:
        """What a notebook stores: the callout (HTML), the text, and the record (JSON)."""
        return {
            "text/plain": str(self),
            "text/html": self._repr_html_(),
            RECORD_MIME: self.record(),
        }

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # IPython shows the verdict as text when it ends a cell

    def _repr_html_(self) -> str:
        kind = KINDS[self.holds]
        esc = html.escape
        heads = ("statistic", "trained", "control", "difference", "noise band", "outcome")
        rows = "".join(  # data-label: a phone shows each row as "label: value" lines (the CSS)
            "<tr>"
            + "".join(
                f'<td data-label="{h}">{esc(c)}</td>' for h, c in zip(heads, e.row(), strict=True)
            )
            + "</tr>"
            for e in self.evidence
        )
        head = "".join(f"<th>{h}</th>" for h in heads)
        table = (
            f'<div class="attncv-table"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>"
            if rows
            else ""
        )
        lines = [
            f'<p class="attncv-verdict-title">Verdict: {esc(self.short)}</p>',
            f"<p><b>{esc(self.source)}:</b> {esc(self.paper)}</p>",
            f"<p><b>This run:</b> {esc(self.run)}</p>",
            table,
            f"<p><b>In words:</b> {esc(self.finding)}</p>" if self.words else "",
            f"<p><b>Note:</b> {esc(self.note)}</p>" if self.note else "",
        ]
        anchor = self.anchor or slug(self.paper)
        return (
            f'<div class="attncv-verdict attncv-verdict-{kind}" id="verdict-{esc(anchor)}" '
            'role="note">' + "".join(lines) + "</div>"
        )

    def glue(self, prefix: str) -> Verdict:
        """Glue ``<prefix>-outcome`` (the short outcome) and ``<prefix>-finding`` (the sentence)
        for the prose, and return the verdict (so a cell can end with it and show it). The
        callout's anchor becomes ``verdict-<prefix>``, so a first screen can link to it."""
        object.__setattr__(self, "anchor", slug(prefix))
        _glue(f"{prefix}-outcome", self.short)
        _glue(f"{prefix}-finding", self.finding)
        return self


def slug(text: str, length: int = 48) -> str:
    """An HTML id's worth of ``text``: lower-case words joined by hyphens, at most ``length``."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:length].strip("-") or "verdict"


def paired_evidence(
    statistic: str,
    trained: Tensor,
    control: Tensor,
    control_label: str,
    *,
    expected: str = "above",
    fmt: str = ".3f",
    units: str = "test images",
) -> Evidence:
    """One :class:`Evidence` from per-unit values of a statistic on the trained network and on its
    control, on the same units: the means, and the half-width of the 95% paired bootstrap interval
    of their difference as the band (:meth:`Evidence.paired`)."""
    return Evidence.paired(
        statistic, trained, control, control_label, units=units, expected=expected, fmt=fmt
    )


def by_outcome(evidence: Sequence[Evidence], names: Sequence[str]) -> dict[bool | None, list[str]]:
    """The names of the evidence rows by outcome: ``{True: [...], False: [...], None: [...]}``."""
    out: dict[bool | None, list[str]] = {True: [], False: [], None: []}
    for e, name in zip(evidence, names, strict=True):
        out[e.holds].append(name)
    return out


def join_names(names: Sequence[str]) -> str:
    """Names in a sentence: ``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
