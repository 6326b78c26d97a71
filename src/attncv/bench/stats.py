"""Is a difference between two sets of seeds more than noise? Welch's interval, for few seeds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# Student's t: the 97.5% quantile for 1 to 30 degrees of freedom (two-sided 95%); 1.96 beyond.
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def welch_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Mean difference ``a - b``, the half-width of its 95% interval, and Welch's degrees of
    freedom, for two independent samples with unequal spreads (at least two values each).

    The half-width is t(0.975, df) times the standard error sqrt(s_a^2/n_a + s_b^2/n_b); df is
    the Welch-Satterthwaite approximation, rounded down (which widens the interval a little).
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a 95% interval needs at least two seeds on each side.")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se2 = va + vb
    delta = statistics.mean(a) - statistics.mean(b)
    if se2 == 0:
        return delta, 0.0, float("inf")
    df = se2**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = _T975[int(df) - 1] if int(df) <= len(_T975) else 1.96
    return delta, t * se2**0.5, df
