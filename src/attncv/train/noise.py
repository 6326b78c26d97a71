"""The run-to-run noise of a profile: the baseline trained with several seeds.

Every accuracy comparison of the book is judged against this spread, measured once per profile,
never assumed: the baseline chapter trains seeds 0-2 and every chapter loads them from the runs
cache (:func:`measure_noise`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..data import CifarData
from .profiles import Profile
from .runs import train_model

SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Noise:
    """The run-to-run spread of one profile's accuracy: the baseline trained with several seeds.

    A single run's accuracy varies by ``sd``; the difference of two single runs by
    ``sqrt(2) sd``, which is the band of every single-run accuracy comparison in the book
    (:meth:`band`)."""

    accuracies: tuple[float, ...]
    seeds: tuple[int, ...]
    profile: str = ""

    def __post_init__(self) -> None:
        if len(self.accuracies) < 2 or len(self.accuracies) != len(self.seeds):
            raise ValueError("Noise needs one accuracy per seed, and at least two seeds.")

    @property
    def sd(self) -> float:
        return float(torch.tensor(self.accuracies, dtype=torch.float64).std())

    def band(self, runs_a: int = 1, runs_b: int = 1) -> float:
        """One standard deviation of the difference of two means of ``runs_a`` and ``runs_b``
        runs: ``sd sqrt(1/runs_a + 1/runs_b)`` (``sqrt(2) sd`` for two single runs)."""
        return self.sd * math.sqrt(1 / runs_a + 1 / runs_b)

    def how(self, runs_a: int = 1, runs_b: int = 1) -> str:
        seeds = ", ".join(str(s) for s in self.seeds)
        runs = "two single runs" if runs_a == runs_b == 1 else f"{runs_a} and {runs_b} runs"
        return (
            f"one SD of a difference of {runs}; sd {self.sd * 100:.1f} points from the "
            f"baseline's seeds {seeds}"
        )

    def seeds_needed(self, difference: float) -> int:
        """Seeds per arm for ``difference`` to clear the band of two means:
        ``sd sqrt(2/n) < |difference|``."""
        if difference == 0 or difference != difference:
            return 0  # no difference to resolve: no number of seeds makes it an effect
        return max(1, math.ceil(2 * (self.sd / abs(difference)) ** 2 + 1e-9))


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
