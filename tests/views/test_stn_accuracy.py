"""The STN chapter's accuracy comparisons: the canvas task's pooled seed noise, the paper's
comparison on seed means, the oracle's two parts, the table."""

from __future__ import annotations

import statistics

import pytest

from attncv.train.noise import Noise, t_quantile
from attncv.views import stn_accuracy as acc
from attncv.views.evidence_words import FIXED_WINDOW, PLAIN_NETWORK
from attncv.views.verdicts import MIXED

PLAIN, GLIMPSE = (0.30, 0.32), (0.36, 0.40)


def _noise() -> acc.SeedNoise:
    return acc.SeedNoise({"the plain network": PLAIN, "the glimpse network": GLIMPSE}, (0, 1))


def test_seed_noise_pools_each_arms_spread_around_its_own_mean() -> None:
    noise = _noise()
    assert noise.df == 2
    pooled = ((statistics.variance(PLAIN) + statistics.variance(GLIMPSE)) / 2) ** 0.5
    assert noise.sd == pytest.approx(pooled)  # not the spread of all four around one mean
    assert noise.band(2, 2) == pytest.approx(4.303 * pooled)
    assert noise.band(1, 1) == pytest.approx(4.303 * pooled * 2**0.5)
    how = noise.how(2, 2)
    assert how.startswith("95% interval of a difference of a mean of 2 runs and a mean of 2")
    assert "(Student's t, 2 df)" in how and "pooled over seeds 0, 1" in how
    assert "two single runs" in noise.how()
    one = acc.SeedNoise({"a": PLAIN}, (0, 1))  # one arm: the plain Noise's sd and t
    assert one.band() == pytest.approx(Noise(PLAIN, (0, 1)).band())
    with pytest.raises(ValueError, match="one accuracy per seed"):
        acc.SeedNoise({"a": (0.3,)}, (0, 1))
    with pytest.raises(ValueError, match="two seeds"):
        acc.SeedNoise({"a": (0.3,)}, (0,))


def test_seeds_needed_shrinks_the_band_below_the_difference() -> None:
    noise = _noise()
    for diff in (0.02, 0.05, 0.10):
        n = noise.seeds_needed(diff)
        assert n >= 2
        assert t_quantile(2 * n - 2) * noise.sd * (2 / n) ** 0.5 < diff
        assert n == 2 or t_quantile(2 * n - 4) * noise.sd * (2 / (n - 1)) ** 0.5 >= diff
    assert noise.seeds_needed(0.0) == 0


@pytest.mark.parametrize(
    ("glimpse", "holds", "start"),
    [
        ((0.60, 0.62), True, "The learned window beat"),
        ((0.33, 0.35), None, "Within the seeds' noise"),
        ((0.05, 0.07), False, "The learned window did worse"),
    ],
)
def test_accuracy_verdict(glimpse, holds, start) -> None:
    v = acc.accuracy_verdict(glimpse, PLAIN, _noise())
    assert v.holds is holds and v.finding.startswith(start)
    (e,) = v.evidence
    assert e.trained == pytest.approx(statistics.mean(glimpse))
    assert e.control == pytest.approx(statistics.mean(PLAIN))
    assert e.control_label.startswith(PLAIN_NETWORK) and "2 seeds" in e.control_label
    if holds is None:
        assert "seeds per arm" in v.finding


def test_parts_verdict() -> None:
    noise = _noise()
    v = acc.parts_verdict(0.70, 0.20, PLAIN, noise)
    assert v.holds is True
    assert [e.control_label for e in v.evidence][1] == FIXED_WINDOW
    assert v.evidence[0].band == pytest.approx(noise.band(1, 2))
    assert v.evidence[1].band == pytest.approx(noise.band(1, 1))
    assert acc.parts_verdict(0.70, 0.90, PLAIN, noise).holds is MIXED
    assert acc.parts_verdict(0.31, 0.31, PLAIN, noise).holds is None


def test_accuracy_table() -> None:
    table = acc.accuracy_table({"plain": PLAIN, "oracle": (0.5,)})
    assert table.rows[0] == ["plain", "2", "30.0%, 32.0%", "31.0%"]
    assert table.rows[1] == ["oracle", "1", "50.0%", "50.0%"]
