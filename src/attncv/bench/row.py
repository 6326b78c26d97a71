"""A module's row of the committed benchmark, quoted by its chapter.

A chapter's one brief run cannot resolve a gain of a few points (one run varies by about as
much), so the chapters whose budget allows no extra seeds make no accuracy verdict of their own:
they quote the module's row of the benchmark's multi-seed table (:func:`benchmark_row`), the
same numbers the benchmark chapter shows, with Welch's 95% interval against the baseline and
how many seeds would resolve the paper's gain at that table's noise.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..train.noise import Noise, level_text, welch_interval
from ..views.evidence_words import count_of
from ..views.glue import glue
from .committed import _find
from .report import measure, summarize

HERE = Path(__file__).resolve().parents[3] / "chapters"  # the book's chapters, in a checkout


@dataclass(frozen=True)
class BenchmarkRow:
    """One module's accuracy in the committed benchmark against the baseline's."""

    name: str
    title: str
    accuracies: tuple[float, ...]
    baseline: tuple[float, ...]
    where: str  # the file, and the table's scale in words
    scale: str

    @property
    def difference(self) -> float:
        return statistics.fmean(self.accuracies) - statistics.fmean(self.baseline)

    @property
    def band(self) -> float:
        """Welch's 95% half-width (infinite with fewer than two seeds a side)."""
        if len(self.accuracies) < 2 or len(self.baseline) < 2:
            return math.inf
        return welch_interval(list(self.accuracies), list(self.baseline))[1]

    def seeds_needed(self, gain: float) -> int:
        """Seeds per arm that would resolve a true ``gain`` (accuracy, 0.01 = one point) at 95%,
        planned on the baseline's spread in this table: :meth:`attncv.train.Noise.seeds_needed`
        (Student's t at the degrees of freedom of the runs that would measure it, not a normal
        approximation), 0 for no gain."""
        return Noise(self.baseline, tuple(range(len(self.baseline)))).seeds_needed(gain)

    def text(self) -> str:
        """The row in a sentence."""
        d, band = self.difference * 100, self.band * 100
        side = "within" if abs(d) <= band else "beyond"
        return (
            f"In the benchmark's table ({self.scale}), {self.title} reached "
            f"{statistics.fmean(self.accuracies):.1%} over {count_of(len(self.accuracies), 'seed')}"
            f", the baseline {statistics.fmean(self.baseline):.1%} over "
            f"{count_of(len(self.baseline), 'seed')}: {d:+.1f} points, {side} the "
            f"{level_text()} Welch interval of ±{band:.1f} points."
        )

    def glue(self, prefix: str) -> BenchmarkRow:
        """Glue ``{prefix}-diff``, ``-band``, ``-seeds`` (of each arm) and ``-text``."""
        glue(f"{prefix}-diff", f"{self.difference * 100:+.1f} points")
        glue(f"{prefix}-band", f"±{self.band * 100:.1f} points")
        glue(f"{prefix}-seeds", count_of(len(self.accuracies), "seed"))
        glue(f"{prefix}-text", self.text())
        return self

    def __str__(self) -> str:
        return self.text()


def benchmark_row(
    name: str, *, root: str | Path | None = None, recipe: str = "fast"
) -> BenchmarkRow:
    """``name``'s row (a registry name, ``"se"``) of the committed CPU benchmark of ``recipe``:
    from ``root/results`` (default: the book's ``chapters/``, or the repository online as the
    benchmark chapter finds it). A clear error naming the modules the table has."""
    tried: list[str] = []
    found = _find(recipe, "cpu", Path(root) if root is not None else HERE, None, tried)
    if found is None:
        from .committed import RESULTS_URL

        found = _find(recipe, "cpu", HERE, RESULTS_URL, tried)
    if found is None:
        tried_text = "; ".join(tried)
        raise FileNotFoundError(f"No committed benchmark results found (tried: {tried_text}).")
    sweep, where = found
    rows = {r["name"]: r for r in summarize(sweep)}
    if name not in rows or "none" not in rows:
        raise ValueError(
            f"The committed benchmark has no row {name!r} (and the baseline 'none'); it has "
            f"{sorted(rows)}."
        )
    key = measure(sweep)
    runs = {n: [r[key] for r in sweep.runs if r["name"] == n] for n in (name, "none")}
    scale = sweep.scale if isinstance(sweep.scale, dict) else {}
    words = (
        f"{scale.get('train_size', '?'):,} training images, width {scale.get('width', '?')}, "
        f"{scale.get('train', {}).get('epochs', '?')} epochs"
        if scale
        else "its recipe"
    )
    return BenchmarkRow(
        name, rows[name]["title"], tuple(runs[name]), tuple(runs["none"]), where, words
    )
