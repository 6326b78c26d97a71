"""The measures a run reports."""

from __future__ import annotations

import math

import pytest

from attncv.train import best5_mean


def test_best5_mean_is_the_mean_of_the_five_best_epochs() -> None:
    accs = [0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.8, 0.6]
    assert best5_mean(accs) == pytest.approx((0.9 + 0.8 + 0.7 + 0.6 + 0.5) / 5)
    assert best5_mean([0.4, 0.2]) == pytest.approx(0.3)  # fewer than five: all of them
    assert math.isnan(best5_mean([]))
