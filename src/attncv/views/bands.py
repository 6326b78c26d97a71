"""The bands of the book: half the width of a 95% bootstrap interval, over test images,
canvases or channels (:func:`bootstrap_band`), or over units and random draws together
(:func:`draws_band`), the controls made of several draws (re-drawn gates, random query/key)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .evidence_words import LEVEL


def bootstrap_band(
    trained: Sequence[float] | torch.Tensor,
    control: Sequence[float] | torch.Tensor | None = None,
    *,
    paired: bool = True,
    level: float = LEVEL,
    resamples: int = 2000,
    seed: int = 0,
) -> float:
    """Half the width of the central ``level`` bootstrap interval of
    ``mean(trained) - mean(control)`` (or of ``mean(trained)`` alone), resampling the units
    (test images, channels, blocks) with replacement. ``paired``: both values belong to the same
    units (the same images through the trained and the control network), so one resample serves
    both, as the comparison does. Needs at least two units."""
    t = torch.as_tensor(trained, dtype=torch.float64).flatten()
    c = None if control is None else torch.as_tensor(control, dtype=torch.float64).flatten()
    if t.numel() < 2 or (c is not None and c.numel() < 2):
        raise ValueError("bootstrap_band needs at least two values on each side.")
    if paired and c is not None and c.numel() != t.numel():
        raise ValueError(f"paired values need equal counts, got {t.numel()} and {c.numel()}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(t.numel(), (resamples, t.numel()), generator=gen)
    stat = t[idx].mean(1)
    if c is not None:
        cidx = idx if paired else torch.randint(c.numel(), (resamples, c.numel()), generator=gen)
        stat = stat - c[cidx].mean(1)
    return half_interval(stat, level=level)


def draws_band(
    trained: torch.Tensor,
    controls: torch.Tensor,
    *,
    level: float = LEVEL,
    resamples: int = 2000,
    seed: int = 0,
) -> float:
    """Half the width of the central ``level`` bootstrap interval of ``mean(trained) -
    mean(controls)``, where ``trained`` (N,) and ``controls`` (D, N) are values on the same N
    units and ``controls`` has one row per random draw: each resample draws N units (the same
    for both sides) and D draws with replacement. Needs two units and two draws."""
    t = torch.as_tensor(trained, dtype=torch.float64).flatten()
    c = torch.as_tensor(controls, dtype=torch.float64)
    if c.dim() != 2 or c.shape[1] != t.numel() or t.numel() < 2 or c.shape[0] < 2:
        raise ValueError(
            f"draws_band needs trained (N,) and controls (D, N) with N, D >= 2; got "
            f"{tuple(t.shape)} and {tuple(c.shape)}."
        )
    gen = torch.Generator().manual_seed(seed)
    (d, n), ones = c.shape, torch.ones(resamples, max(c.shape), dtype=torch.float64)
    units = torch.zeros(resamples, n, dtype=torch.float64).scatter_add_(
        1, torch.randint(n, (resamples, n), generator=gen), ones[:, :n]
    )  # (R, N): how often each unit is in each resample
    draws = torch.zeros(resamples, d, dtype=torch.float64).scatter_add_(
        1, torch.randint(d, (resamples, d), generator=gen), ones[:, :d]
    )
    stats = (units @ t - ((draws @ c) / d * units).sum(1)) / n
    return half_interval(stats, level=level)


def half_interval(values: torch.Tensor, *, level: float = LEVEL) -> float:
    """Half the width of the central ``level`` interval of ``values`` (a statistic over its
    bootstrap resamples): the band of every bootstrap in the book."""
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    lo, hi = torch.quantile(v, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=v.dtype))
    return float(hi - lo) / 2
