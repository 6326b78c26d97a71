"""Verdicts: what a paper observed, what this run found against a control, and whether they agree.

The machinery (:class:`Evidence`, :class:`Verdict`, the outcomes, the bootstrap bands and the JSON
record) lives in :mod:`.evidence` and is re-exported here; this module adds the accuracy
comparisons: :func:`accuracy_evidence`, :func:`gain_verdict` and :func:`accuracy_verdict` (one run,
or the seeds of each side, against the baseline's mean, at the book's one level: the seed noise
of :class:`~attncv.train.Noise`, Welch's interval where both sides have seeds). The words, the
controls' labels and how a band was measured come from :mod:`.evidence_words`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ..train.noise import Noise, welch_interval
from ..train.result import FitResult
from .bands import bootstrap_band, draws_band, half_interval  # re-exported, as below
from .evidence import (  # re-exported (__all__): chapters import the vocabulary from here
    KINDS,
    MIXED,
    NOTES_OUTCOMES,
    OUTCOMES,
    RECORD_MIME,
    RECORD_VERSION,
    SHORT,
    WIDTH,
    Evidence,
    Outcome,
    Verdict,
    agree,
    both,
    by_outcome,
    join_names,
    judge,
    paired_evidence,
)
from .evidence_words import (
    BASELINE,
    LEVEL,
    band_decimals,
    count_of,
    level_text,
    welch_how,
)


def _accuracies(value: float | Sequence[float]) -> tuple[float, ...]:
    """One accuracy, or the accuracies of several seeds, as a tuple of floats."""
    try:
        return (float(value),)  # a number (a float, a 0-d tensor)
    except TypeError:
        values = tuple(float(v) for v in value)
    if not values:
        raise ValueError("an accuracy comparison needs at least one accuracy on each side.")
    return values


def accuracy_evidence(
    label: str,
    accuracy: float | Sequence[float],
    reference: float | Sequence[float],
    noise: Noise,
    *,
    reference_label: str = BASELINE,
    runs: tuple[int, int] | None = None,
    expected: str = "above",
    level: float = LEVEL,
) -> Evidence:
    """Test accuracy of ``label`` against ``reference``, judged at the book's level (95%).

    Each side is one run's accuracy or the accuracies of several seeds, compared by their mean:

    - one run against one run (``runs``, default ``(1, 1)``, for means of that many runs): the
      band of the measured seed noise, :meth:`Noise.band`;
    - one run against the baseline's seeds (``reference=noise.accuracies``): the run against
      their mean, the band ``t sd sqrt(1 + 1/n)`` of one run against a mean of n
      (``noise.band(1, n)``); several seeds against one run likewise;
    - several seeds on both sides: Welch's interval of the two means
      (:func:`~attncv.train.noise.welch_interval`), from the seeds' own spreads.
    """
    mine, theirs = _accuracies(accuracy), _accuracies(reference)
    if runs is not None and (len(mine) > 1 or len(theirs) > 1):
        raise ValueError("runs is for single accuracies; seeds given as sequences count them.")
    if len(mine) > 1 and len(theirs) > 1:
        _, band, df = welch_interval(mine, theirs, level=level)
        how = welch_how(len(mine), len(theirs), df, level=level)
    else:
        runs = runs or (len(mine), len(theirs))
        band, how = noise.band(*runs, level=level), noise.how(*runs, level=level)
    return Evidence(
        statistic=f"final test accuracy, {label}",
        trained=statistics.fmean(mine),
        control=statistics.fmean(theirs),
        control_label=reference_label,
        band=band,
        band_how=how,
        expected=expected,
        fmt=".1%",
    )


def _arms(mine: int, theirs: int) -> str:
    """What the band compares: ``"two single runs"``, ``"one run against a mean of 3"``,
    ``"means of 3 and 3 seeds (Welch)"``."""
    if mine == theirs == 1:
        return "two single runs"
    if mine == 1 or theirs == 1:
        one, many = ("one run", f"a mean of {max(mine, theirs)}")
        return f"{one} against {many}" if mine == 1 else f"{many} against {one}"
    return f"means of {mine} and {theirs} seeds (Welch)"


def _accuracy_text(values: tuple[float, ...]) -> str:
    if len(values) == 1:
        return f"{values[0]:.1%}"
    each = ", ".join(f"{v:.1%}" for v in values)
    return f"{statistics.fmean(values):.1%} (the mean of {count_of(len(values), 'seed')}: {each})"


def gain_verdict(
    label: str,
    accuracy: float | Sequence[float],
    reference: float | Sequence[float],
    noise: Noise,
    *,
    paper: str,
    reference_label: str = BASELINE,
    level: float = LEVEL,
) -> Verdict:
    """``label``'s final test accuracy against ``reference`` (the baseline's, or a variant's),
    judged at the book's level (95%) by :func:`accuracy_evidence`: the one accuracy verdict of
    the book. Either side is one run's accuracy or several seeds' accuracies, compared by their
    mean: pass the baseline's seeds (``noise.accuracies``) as ``reference`` to judge a run
    against the baseline's mean rather than its seed 0 (the band of one run against a mean of
    n); seeds on both sides are judged by Welch's interval. Within the band the words say how
    many seeds per arm would resolve the gap (:meth:`~attncv.train.Noise.seeds_needed`); beyond
    it, that one seed cannot say how much of the gap would repeat."""
    mine, theirs = _accuracies(accuracy), _accuracies(reference)
    evidence = accuracy_evidence(
        label,
        mine if len(mine) > 1 else mine[0],
        theirs if len(theirs) > 1 else theirs[0],
        noise,
        reference_label=reference_label,
        level=level,
    )
    d = evidence.difference
    digits = band_decimals(evidence.band * 100, 1)
    gap, band = f"{abs(d) * 100:.{digits}f}", f"±{evidence.band * 100:.{digits}f} points"
    cap = label[:1].upper() + label[1:]  # the label starts a sentence
    pair = _arms(len(mine), len(theirs))
    within = f"the {level_text(level)} noise band of {band} for {pair}"
    seeds = noise.seeds_needed(d, level=level)
    need = (
        f"; telling a gap of {gap} points from chance would take about "
        f"{count_of(seeds, 'seed')} of each"
        if seeds
        else "; no number of seeds turns a gap of zero into an effect"
    )
    if len(mine) == 1:
        who = "one seed each" if len(theirs) == 1 else f"one seed of {label}"
        once = f"; {who} cannot say how much of the gap would repeat with other seeds."
        rank = f"{who} cannot rank them"
    else:
        once = "."
        rank = f"{count_of(len(mine), 'seed')} of {label} cannot rank them"
    runs = {
        (True, True): "one brief run each",
        (True, False): f"one brief run against {count_of(len(theirs), 'seed')}",
        (False, True): f"{count_of(len(mine), 'seed')} against one brief run",
    }.get((len(mine) == 1, len(theirs) == 1), f"{len(mine)} and {len(theirs)} seeds")
    return Verdict(
        paper=paper,
        run=(
            f"{label} {_accuracy_text(mine)}, {reference_label} {_accuracy_text(theirs)}: "
            f"{d * 100:+.{digits}f} points, {runs}; the baseline's seeds vary by "
            f"{noise.sd * 100:.1f} points."
        ),
        evidence=(evidence,),
        words={
            True: f"{cap} finished {gap} points ahead of {reference_label}, beyond {within}{once}",
            False: f"{cap} finished {gap} points behind {reference_label}, beyond {within}{once}",
            None: f"{cap} finished {d * 100:+.{digits}f} points against {reference_label}, "
            f"within {within}: {rank}{need}.",
        },
    )


def accuracy_verdict(
    paper: str,
    name: str,
    result: FitResult | Sequence[FitResult],
    baseline: FitResult | Sequence[FitResult],
    noise: Noise,
) -> Verdict:
    """Does ``result`` beat the baseline, beyond the noise at the book's level? The book's one
    accuracy verdict (:func:`gain_verdict`), read from runs: one run each, or several seeds on
    either side (their mean; the baseline's seeds give the baseline's mean)."""

    def final(runs: FitResult | Sequence[FitResult]) -> float | list[float]:
        return runs.final_acc if isinstance(runs, FitResult) else [r.final_acc for r in runs]

    return gain_verdict(name, final(result), final(baseline), noise, paper=paper)


__all__ = [
    "KINDS",
    "LEVEL",
    "MIXED",
    "NOTES_OUTCOMES",
    "OUTCOMES",
    "RECORD_MIME",
    "RECORD_VERSION",
    "SHORT",
    "WIDTH",
    "Evidence",
    "Outcome",
    "Verdict",
    "accuracy_evidence",
    "accuracy_verdict",
    "agree",
    "both",
    "bootstrap_band",
    "draws_band",
    "by_outcome",
    "gain_verdict",
    "half_interval",
    "join_names",
    "judge",
    "paired_evidence",
]
