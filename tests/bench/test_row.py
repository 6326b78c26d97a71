"""A module's row of the committed benchmark (bench/row.py)."""

from __future__ import annotations

import statistics

import pytest

from attncv.bench.row import BenchmarkRow, benchmark_row
from attncv.train.noise import t_quantile, welch_interval


def test_row_of_the_committed_table_matches_its_runs() -> None:
    row = benchmark_row("se")
    assert len(row.accuracies) == 3 and len(row.baseline) == 3
    d, half, _ = welch_interval(list(row.accuracies), list(row.baseline))
    assert row.difference == pytest.approx(d) and row.band == pytest.approx(half)
    text = row.text()
    assert f"{row.difference * 100:+.1f} points" in text and "95% Welch interval" in text


def test_unknown_module_names_what_there_is() -> None:
    with pytest.raises(ValueError, match="no row 'nope'.*'se'"):
        benchmark_row("nope")


def test_seeds_needed_is_the_baselines_noise_with_students_t() -> None:
    row = BenchmarkRow("m", "M", (0.50, 0.52, 0.54), (0.49, 0.51, 0.53), "here", "scale")
    n = row.seeds_needed(0.02)
    sd = statistics.stdev(row.baseline)
    assert t_quantile(2 * n - 2) * sd * (2 / n) ** 0.5 < 0.02  # n seeds resolve it
    assert t_quantile(2 * n - 4) * sd * (2 / (n - 1)) ** 0.5 >= 0.02  # n - 1 do not
    assert row.seeds_needed(0.0) == 0
    one = BenchmarkRow("m", "M", (0.5,), (0.49, 0.51), "here", "scale")
    assert one.band == float("inf")
