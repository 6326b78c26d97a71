"""The bands over units and random draws (views/bands.py, Evidence.over_draws)."""

from __future__ import annotations

import pytest
import torch

from attncv.views.bands import bootstrap_band, draws_band
from attncv.views.evidence_words import REDRAWN_GATES, drawn
from attncv.views.verdicts import Evidence


def _naive(t: torch.Tensor, c: torch.Tensor, resamples: int = 2000, seed: int = 1) -> float:
    """An independent formulation: resample units and draws in a loop, the 95% half-width."""
    gen = torch.Generator().manual_seed(seed)
    d, n = c.shape
    stats = []
    for _ in range(resamples):
        u = torch.randint(n, (n,), generator=gen)
        k = torch.randint(d, (d,), generator=gen)
        stats.append(t[u].mean() - c[k][:, u].mean())
    s = torch.tensor(stats, dtype=torch.float64)
    lo, hi = torch.quantile(s, torch.tensor([0.025, 0.975], dtype=torch.float64))
    return float(hi - lo) / 2


def test_draws_band_agrees_with_a_loop_over_resamples() -> None:
    gen = torch.Generator().manual_seed(0)
    t = torch.randn(300, generator=gen, dtype=torch.float64)
    c = torch.randn(8, 300, generator=gen, dtype=torch.float64) + torch.randn(8, 1, generator=gen)
    assert draws_band(t, c) == pytest.approx(_naive(t, c), rel=0.1)


def test_draws_band_grows_with_the_spread_between_draws() -> None:
    gen = torch.Generator().manual_seed(1)
    t = torch.randn(200, generator=gen, dtype=torch.float64)
    noise = torch.randn(10, 200, generator=gen, dtype=torch.float64)
    alike = noise + 0.0
    apart = noise + 3 * torch.randn(10, 1, generator=gen, dtype=torch.float64)  # draws differ
    assert draws_band(t, apart) > 3 * draws_band(t, alike)


def test_draws_band_of_identical_draws_is_the_paired_band() -> None:
    gen = torch.Generator().manual_seed(2)
    t = torch.randn(400, generator=gen, dtype=torch.float64)
    c0 = t + 0.3 * torch.randn(400, generator=gen, dtype=torch.float64)
    same = c0.expand(5, -1)
    assert draws_band(t, same) == pytest.approx(bootstrap_band(t, c0), rel=0.1)


@pytest.mark.parametrize(
    "shape", [(10,), (1, 50), (3, 49)], ids=["no-draw-axis", "one-draw", "units-differ"]
)
def test_draws_band_refuses_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="draws_band needs"):
        draws_band(torch.zeros(50), torch.zeros(shape))


def test_over_draws_evidence_says_how_and_judges() -> None:
    gen = torch.Generator().manual_seed(3)
    c = torch.randn(10, 500, generator=gen)
    label = drawn(REDRAWN_GATES, 10)
    high = Evidence.over_draws("target over distractors", c[0] + 1.0, c, label)
    same = Evidence.over_draws("target over distractors", c[0], c, label)
    assert high.holds is True and same.holds is None
    assert "95% bootstrap over 500 test canvases and 10 draws" in high.text()
    assert label == "the gates re-drawn on the trained network (10 draws)"
    with pytest.raises(ValueError, match=r"\(draws, units\)"):
        Evidence.over_draws("x", c[0], c[:, :10], label)
