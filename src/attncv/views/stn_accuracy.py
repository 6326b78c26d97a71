"""The spatial-transformer chapter's accuracy comparisons, judged against the canvas task's own
seed noise.

Four classifiers see the same canvases (Jaderberg et al. 2015, Sec. 4.1, whose glimpse network
beats the plain one on cluttered canvases): the plain network (the whole canvas downscaled), the
learned window (the glimpse network), a window of the same side fixed at the canvas centre, and
the oracle window, centred on the known object (:mod:`attncv.train.stn_oracle`). The plain and the
glimpse network are trained on two seeds or more; their seeds measure the task's noise, pooled
(:class:`SeedNoise`: both arms' spread around their own means, Student's t at the pooled degrees
of freedom). :func:`accuracy_verdict` is the paper's comparison (learned window against the plain
network, seed means); :func:`parts_verdict` splits the paper's reason in two with the oracle:
resolution with the object always in view (oracle against the plain network) and finding the
object at one resolution (oracle against the fixed window). :func:`accuracy_table` lists the
arms.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..train.noise import LEVEL, level_text, t_quantile
from .evidence_words import FIXED_WINDOW, PLAIN_NETWORK, count_of, mean_of_seeds
from .tables import Table
from .verdicts import MIXED, Evidence, Verdict

PAPER = "Jaderberg et al. 2015, Sec. 4.1"


def _runs(count: int) -> str:
    return "one run" if count == 1 else f"a mean of {count} runs"


@dataclass(frozen=True)
class SeedNoise:
    """The canvas task's seed noise: final test accuracies per arm (``arms``: name -> one per
    seed of ``seeds``), the sd pooled over the arms (each arm's spread around its own mean), with
    ``sum(n - 1)`` degrees of freedom."""

    arms: Mapping[str, Sequence[float]]
    seeds: Sequence[int]

    def __post_init__(self) -> None:
        if not self.arms or any(len(a) != len(self.seeds) for a in self.arms.values()):
            raise ValueError(
                "SeedNoise needs one accuracy per seed in every arm, got "
                f"{ {k: len(v) for k, v in self.arms.items()} } for seeds {list(self.seeds)}."
            )
        if len(self.seeds) < 2:
            raise ValueError("SeedNoise needs at least two seeds per arm to measure a spread.")

    @property
    def df(self) -> int:
        return sum(len(a) - 1 for a in self.arms.values())

    @property
    def sd(self) -> float:
        squares = sum(sum((x - statistics.mean(a)) ** 2 for x in a) for a in self.arms.values())
        return math.sqrt(squares / self.df)

    def band(self, runs_a: int = 1, runs_b: int = 1, *, level: float = LEVEL) -> float:
        """Half the ``level`` interval of a difference of means of ``runs_a`` and ``runs_b``
        runs: ``t(level, df) sd sqrt(1/runs_a + 1/runs_b)``."""
        if runs_a < 1 or runs_b < 1:
            raise ValueError(f"runs must be at least 1, got {runs_a!r} and {runs_b!r}.")
        return t_quantile(self.df, level) * self.sd * math.sqrt(1 / runs_a + 1 / runs_b)

    def how(self, runs_a: int = 1, runs_b: int = 1, *, level: float = LEVEL) -> str:
        """:meth:`band` in words: ``"95% interval of a difference of a mean of 2 runs and a mean
        of 2 runs (Student's t, 2 df); sd 1.2 points pooled over seeds 0, 1 of the plain
        network and the glimpse network on canvases"``."""
        runs = (
            "two single runs" if runs_a == runs_b == 1 else f"{_runs(runs_a)} and {_runs(runs_b)}"
        )
        names = " and ".join(self.arms)
        seeds = ", ".join(map(str, self.seeds))
        return (
            f"{level_text(level)} interval of a difference of {runs} (Student's t, {self.df} "
            f"df); sd {self.sd * 100:.1f} points pooled over seeds {seeds} of {names} on canvases"
        )

    def seeds_needed(self, difference: float, *, level: float = LEVEL) -> int:
        """Seeds per arm for ``difference`` to clear the band of two means of n seeds each (2n -
        2 df, this sd as the planning value); 0 where there is nothing to resolve."""
        if difference == 0 or difference != difference or self.sd == 0:
            return 0
        n = 2
        while t_quantile(2 * n - 2, level) * self.sd * math.sqrt(2 / n) >= abs(difference):
            n += 1
        return n


def _mean(values: Sequence[float]) -> float:
    return float(statistics.mean(values))


def _resolve(noise: SeedNoise, difference: float) -> str:
    n = noise.seeds_needed(difference)
    if n == 0:
        return "no number of seeds resolves a difference of 0"
    return f"a difference this size would need about {count_of(n, 'seed')} per arm"


def accuracy_verdict(glimpse: Sequence[float], plain: Sequence[float], noise: SeedNoise) -> Verdict:
    """The paper's comparison: the glimpse network's final test accuracy against the plain
    network's, each the mean of its seeds, with :class:`SeedNoise`'s band."""
    g, p = _mean(glimpse), _mean(plain)
    ev = Evidence(
        statistic=f"final test accuracy, learned window (mean of {count_of(len(glimpse), 'seed')})",
        trained=g,
        control=p,
        control_label=mean_of_seeds(PLAIN_NETWORK, len(plain)),
        band=noise.band(len(glimpse), len(plain)),
        band_how=noise.how(len(glimpse), len(plain)),
        fmt=".1%",
    )
    diff = f"{ev.difference * 100:+.1f} points, band ±{ev.band * 100:.1f}"
    return Verdict(
        paper=f"the classifier behind the learned window beats the plain one ({PAPER})",
        run=f"test accuracy {g:.1%} behind the learned window, {p:.1%} for the plain network "
        f"(seed means).",
        evidence=(ev,),
        words={
            True: f"The learned window beat the plain network beyond the seeds' noise ({diff}).",
            None: f"Within the seeds' noise ({diff}): {_resolve(noise, ev.difference)}.",
            False: f"The learned window did worse than the plain network beyond the seeds' "
            f"noise ({diff}).",
        },
    )


def parts_verdict(oracle: float, fixed: float, plain: Sequence[float], noise: SeedNoise) -> Verdict:
    """The paper's reason, in two parts, with the oracle window (one seed) and the fixed window
    (one seed): resolution with the object always in view (oracle against the plain network's
    seed mean) and finding the object at one resolution (oracle against the fixed window)."""
    p = _mean(plain)

    def evidence(label: str, reference: float, runs: int) -> Evidence:
        return Evidence(
            statistic="final test accuracy, oracle window",
            trained=oracle,
            control=reference,
            control_label=label,
            band=noise.band(1, runs),
            band_how=noise.how(1, runs),
            fmt=".1%",
        )

    resolution = evidence(f"{PLAIN_NETWORK}, mean of {count_of(len(plain), 'seed')}", p, len(plain))
    finding = evidence(FIXED_WINDOW, fixed, 1)
    parts = (
        f"resolution with the object in view {resolution.difference * 100:+.1f} points "
        f"(band ±{resolution.band * 100:.1f}), finding the object at one resolution "
        f"{finding.difference * 100:+.1f} points (band ±{finding.band * 100:.1f})"
    )
    return Verdict(
        paper="the transformer's gain comes from finding the object and presenting it "
        f"enlarged ({PAPER})",
        run=f"test accuracy {oracle:.1%} behind the oracle window, {fixed:.1%} behind the fixed "
        f"centred window, {p:.1%} for the plain network.",
        evidence=(resolution, finding),
        words={
            True: f"Both parts paid beyond the seeds' noise: {parts}.",
            None: f"Neither part clears the seeds' noise: {parts}.",
            False: f"The oracle window did worse than both controls beyond the noise: {parts}.",
            MIXED: f"The parts disagree beyond the noise: {parts}.",
        },
    )


def accuracy_table(arms: Mapping[str, Sequence[float]]) -> Table:
    """One row per network: its final test accuracies by seed and their mean."""
    rows = [
        [
            name,
            str(len(accs)),
            ", ".join(f"{a:.1%}" for a in accs),
            f"{_mean(accs):.1%}",
        ]
        for name, accs in arms.items()
    ]
    return Table(
        ["network", "seeds", "test accuracy by seed", "mean"],
        rows,
        caption="Final test accuracy on the same test canvases.",
    )
