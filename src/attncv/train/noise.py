"""The run-to-run noise of a profile: the baseline trained with several seeds.

Every accuracy comparison of the book is judged against this spread, measured once per profile,
never assumed: the baseline chapter trains seeds 0-2 and every chapter loads them from the runs
cache (:func:`measure_noise`).

The book's one level lives here (:data:`LEVEL`, 95%), below the views that word it
(:mod:`attncv.views.evidence_words` re-exports it), with the pure statistics of a few seeds:
Student's t quantile (:func:`t_quantile`) and Welch's interval of a difference of two means
(:func:`welch_interval`, which the bench uses too).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..data import CifarData
from .profiles import Profile
from .runs import train_model

SEEDS = (0, 1, 2)
LEVEL = 0.95  # the book's one level: every band is the central 95% interval of its difference


def level_text(level: float = LEVEL) -> str:
    """A level as a percentage: ``"95%"``, ``"97.5%"``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    return f"{round(level * 100, 6):g}%"


def _simpson(f, a: float, b: float, steps: int = 1000) -> float:
    h = (b - a) / steps
    inner = sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, steps))
    return (f(a) + inner + f(b)) * h / 3


@functools.lru_cache(maxsize=256)
def t_quantile(df: float, level: float = LEVEL) -> float:
    """Student's t quantile of a central ``level`` interval (two-sided) with ``df`` degrees of
    freedom, rounded down to a whole number (which widens the interval a little) and the value
    rounded to three decimals, as a printed table gives it: 12.706 for 1 df, 4.303 for 2, 2.776
    for 4 at 95%.

    Computed from the density: with ``T = sqrt(df) tan(theta)``,
    ``P(|T| < x) = 2 G((df+1)/2) / (sqrt(pi) G(df/2)) * integral_0^atan(x/sqrt(df))
    cos(theta)^(df-1) dtheta``, a smooth integral on a bounded range (Simpson's rule), solved
    for x by Newton's method."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    if df != df or df < 1:
        raise ValueError(f"t_quantile needs at least 1 degree of freedom, got {df!r}.")
    if math.isinf(df):
        return round(statistics.NormalDist().inv_cdf((1 + level) / 2), 3)
    nu = math.floor(df)
    const = 2 * math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) / math.sqrt(math.pi)
    density = lambda theta: math.cos(theta) ** (nu - 1)  # noqa: E731
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    theta = math.atan(z / math.sqrt(nu))  # the normal quantile: a start below the answer
    for _ in range(100):
        step = (const * _simpson(density, 0.0, theta) - level) / (const * density(theta))
        theta = min(max(theta - step, 1e-12), math.pi / 2 * (1 - 1e-12))
        if abs(step) < 1e-13:
            break
    return round(math.sqrt(nu) * math.tan(theta), 3)


def welch_interval(
    a: Sequence[float], b: Sequence[float], *, level: float = LEVEL
) -> tuple[float, float, float]:
    """Mean difference ``a - b``, the half-width of its ``level`` interval (95%), and Welch's
    degrees of freedom, for two independent samples with unequal spreads (at least two values
    each).

    The half-width is t(df) (:func:`t_quantile`) times the standard error
    sqrt(s_a^2/n_a + s_b^2/n_b); df is the Welch-Satterthwaite approximation, rounded down (which
    widens the interval a little).
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"a {level_text(level)} interval needs at least two seeds on each side.")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se2 = va + vb
    delta = statistics.mean(a) - statistics.mean(b)
    if se2 == 0:
        return delta, 0.0, float("inf")
    df = se2**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return delta, t_quantile(df, level) * se2**0.5, df


def _runs(count: int) -> str:
    return "one run" if count == 1 else f"a mean of {count} runs"


@dataclass(frozen=True)
class Noise:
    """The run-to-run spread of one profile's accuracy: the baseline trained with several seeds.

    A single run's accuracy varies by ``sd``; the difference of two means of ``a`` and ``b`` runs
    by ``sd sqrt(1/a + 1/b)``. Every single-run accuracy comparison of the book is judged against
    the central :data:`LEVEL` (95%) interval of that difference (:meth:`band`), with Student's t
    at the seeds' degrees of freedom (n - 1: the sd itself is measured from n seeds)."""

    accuracies: tuple[float, ...]
    seeds: tuple[int, ...]
    profile: str = ""
    source: str = ""  # whose seeds, in words (default: "the baseline's seeds 0, 1, 2")

    def __post_init__(self) -> None:
        if len(self.accuracies) < 2 or len(self.accuracies) != len(self.seeds):
            raise ValueError("Noise needs one accuracy per seed, and at least two seeds.")

    @property
    def sd(self) -> float:
        return float(torch.tensor(self.accuracies, dtype=torch.float64).std())

    @property
    def mean(self) -> float:
        """The baseline's mean accuracy over its seeds: the reference of a module's run."""
        return float(statistics.mean(self.accuracies))

    @property
    def df(self) -> int:
        """Degrees of freedom of :attr:`sd`: one fewer than the seeds it is measured from."""
        return len(self.accuracies) - 1

    def band(self, runs_a: int = 1, runs_b: int = 1, *, level: float = LEVEL) -> float:
        """Half the width of the central ``level`` interval of the difference of two means of
        ``runs_a`` and ``runs_b`` runs: ``t(level, n - 1) sd sqrt(1/runs_a + 1/runs_b)``, with
        Student's t (:func:`t_quantile`) at the degrees of freedom of the seeds that measured
        ``sd`` (for two single runs and seeds 0, 1, 2: ``4.303 sqrt(2) sd``; for one run
        against the mean of the three seeds ``4.303 sqrt(1 + 1/3) sd``)."""
        if runs_a < 1 or runs_b < 1:
            raise ValueError(f"runs must be at least 1, got {runs_a!r} and {runs_b!r}.")
        return t_quantile(self.df, level) * self.sd * math.sqrt(1 / runs_a + 1 / runs_b)

    def how(self, runs_a: int = 1, runs_b: int = 1, *, level: float = LEVEL) -> str:
        """How :meth:`band` was measured, the one wording of the seed noise: ``"95% interval of
        a difference of two single runs (Student's t, 2 df); sd 3.5 points from the baseline's
        seeds 0, 1, 2"``."""
        seeds = ", ".join(str(s) for s in self.seeds)
        source = self.source or f"the baseline's seeds {seeds}"
        if runs_a == runs_b == 1:
            runs = "two single runs"
        elif runs_a == runs_b:
            runs = f"two means of {runs_a} runs"
        else:
            runs = f"{_runs(runs_a)} and {_runs(runs_b)}"
        return (
            f"{level_text(level)} interval of a difference of {runs} (Student's t, {self.df} df); "
            f"sd {self.sd * 100:.1f} points from {source}"
        )

    def seeds_needed(self, difference: float, *, level: float = LEVEL) -> int:
        """Seeds per arm for ``difference`` to clear the ``level`` band of two means of n seeds
        each, with the sd then measured from those 2n runs (2n - 2 degrees of freedom) and this
        sd as its planning value: the least n >= 2 with ``t(level, 2n - 2) sd sqrt(2/n) <
        |difference|``; 0 where there is no difference to resolve."""
        if difference == 0 or difference != difference:
            return 0  # no difference to resolve: no number of seeds makes it an effect
        z = statistics.NormalDist().inv_cdf((1 + level) / 2)
        n = max(2, math.ceil(2 * (z * self.sd / abs(difference)) ** 2))  # t > z: n is at least
        while t_quantile(2 * n - 2, level) * self.sd * math.sqrt(2 / n) >= abs(difference):
            n += 1
        return n


def measure_noise(
    data: CifarData, profile: Profile, *, seeds: Sequence[int] = SEEDS, progress: bool | str = True
) -> Noise:
    """Train (or load from the runs cache) the baseline with each of ``seeds`` under ``profile``
    and return the spread of their final test accuracies."""
    accuracies = tuple(
        train_model("none", data, profile, seed=s, name=f"baseline, seed {s}", progress=progress)[
            1
        ].final_acc
        for s in seeds
    )
    return Noise(accuracies, tuple(seeds), profile.name)
