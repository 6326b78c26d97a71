"""The seed noise at the book's one level: Student's t from the density, Welch's interval (moved
here from the bench), and the 95% band of a difference of means of the baseline's seeds."""

from __future__ import annotations

import math

import pytest

from attncv.train.noise import LEVEL, Noise, level_text, t_quantile, welch_interval

# Student's t: the printed 97.5% quantiles for 1 to 30 degrees of freedom (two-sided 95%), the
# table the bench used before the quantile was computed
T975 = (
    (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)
    + (2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086)
    + (2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
)


def test_the_one_level_is_95_percent() -> None:
    from attncv.views import evidence_words, verdicts

    assert LEVEL == 0.95 and level_text() == "95%" and level_text(0.975) == "97.5%"
    assert evidence_words.LEVEL is LEVEL and verdicts.LEVEL is LEVEL  # one source, re-exported
    assert evidence_words.level_text is level_text
    with pytest.raises(ValueError, match="level"):
        level_text(95)


def test_t_quantile_matches_the_printed_table() -> None:
    assert tuple(t_quantile(df) for df in range(1, 31)) == T975


def test_t_quantile_at_other_levels_and_fractional_df() -> None:
    assert t_quantile(2, 0.99) == 9.925 and t_quantile(1, 0.99) == 63.657
    assert t_quantile(10, 0.90) == 1.812
    assert t_quantile(4.96) == t_quantile(4) == 2.776  # Welch's df, rounded down: wider
    assert t_quantile(10_000) == pytest.approx(1.96, abs=1e-3)  # the normal limit
    assert t_quantile(math.inf) == 1.96
    with pytest.raises(ValueError, match="degree"):
        t_quantile(0.5)


def test_welch_interval_against_a_hand_computation() -> None:
    """a = 1, 2, 3 and b = 4, 5, 6, 7: variances of the means 1/3 and 5/12, Welch df 4.96
    (rounded down to 4, t = 2.776), half-width 2.776 * sqrt(3/4); the bench's, moved here."""
    from attncv.bench import stats

    assert stats.welch_interval is welch_interval  # the bench imports it from here
    delta, half, df = welch_interval([1, 2, 3], [4, 5, 6, 7])
    assert delta == pytest.approx(-3.5) and half == pytest.approx(2.776 * 0.75**0.5)
    assert df == pytest.approx(0.75**2 / ((1 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3))
    _, wider, _ = welch_interval([1, 2, 3], [4, 5, 6, 7], level=0.99)
    assert wider > half
    assert welch_interval([1, 1], [2, 2]) == (-1, 0.0, math.inf)  # no spread: no band
    with pytest.raises(ValueError, match="two seeds"):
        welch_interval([0.5], [0.4, 0.6])


NOISE = Noise((0.468, 0.472, 0.531), (0, 1, 2))  # the committed baseline's seeds


def test_band_is_the_95_interval_of_a_difference_of_means() -> None:
    sd = NOISE.sd
    assert NOISE.df == 2 and NOISE.mean == pytest.approx(0.49033, abs=1e-5)
    assert NOISE.band() == pytest.approx(4.303 * sd * 2**0.5)  # two single runs
    assert NOISE.band(1, 3) == pytest.approx(4.303 * sd * (1 + 1 / 3) ** 0.5)  # run vs mean
    assert NOISE.band(3, 3) < NOISE.band(1, 3) < NOISE.band()
    assert NOISE.band(level=0.99) == pytest.approx(9.925 * sd * 2**0.5)
    with pytest.raises(ValueError, match="runs"):
        NOISE.band(0, 1)


def test_how_names_the_level_the_quantile_and_the_seeds() -> None:
    assert NOISE.how() == (
        "95% interval of a difference of two single runs (Student's t, 2 df); sd 3.5 points "
        "from the baseline's seeds 0, 1, 2"
    )
    assert NOISE.how(1, 3).startswith(
        "95% interval of a difference of one run and a mean of 3 runs (Student's t, 2 df)"
    )
    assert "two means of 3 runs" in NOISE.how(3, 3)
    assert NOISE.how(level=0.9).startswith("90% interval")


def test_seeds_needed_at_the_level() -> None:
    d = 0.539 - NOISE.mean  # SE's committed gap against the baseline's mean
    n = NOISE.seeds_needed(d)

    def band(k: int, level: float = LEVEL) -> float:  # n seeds a side, the sd from 2n runs
        return t_quantile(2 * k - 2, level) * NOISE.sd * (2 / k) ** 0.5

    assert n >= 2 and band(n) < abs(d) <= band(n - 1)
    assert NOISE.seeds_needed(-d) == n  # either direction
    assert NOISE.seeds_needed(d, level=0.99) > n
    assert NOISE.seeds_needed(0.0) == 0 and NOISE.seeds_needed(math.nan) == 0
    assert NOISE.seeds_needed(0.0036) > 500  # ECA's paper gap: far beyond a brief run's reach
