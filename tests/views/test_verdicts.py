"""Verdicts: the dead band around no effect, the three outcomes, text within 90 columns."""

from __future__ import annotations

import math

import pytest

from attncv.views.verdicts import OUTCOMES, Verdict, both, judge


@pytest.mark.parametrize(
    ("statistic", "expected", "neutral", "band", "holds"),
    [
        (5.5, "above", 1.0, 0.5, True),  # late/early spread well above 1: the pattern holds
        (0.6, "above", 1.0, 0.2, False),  # well below: the opposite
        (1.1, "above", 1.0, 0.2, None),  # inside the band: too small to tell
        (-0.03, "above", 0.0, 0.01, False),  # SK's stage-2 differences, negative
        (-0.03, "below", 0.0, 0.01, True),
        (0.2, "below", 0.0, 0.2, None),  # on the band's edge: inconclusive
        (math.nan, "above", 0.0, 0.0, None),
    ],
)
def test_judge(statistic, expected, neutral, band, holds) -> None:
    assert judge(statistic, expected=expected, neutral=neutral, band=band) is holds


def test_judge_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="above"):
        judge(1.0, expected="up")
    with pytest.raises(ValueError, match="band"):
        judge(1.0, expected="above", band=-1)


def test_both() -> None:
    assert both(True, True) is True
    assert both(True, None) is None
    assert both(True, False) is False and both(None, False) is False
    assert both() is None


def test_verdict_text_names_paper_run_and_outcome() -> None:
    v = Verdict("late gates are class-specific (Hu et al. 2018, Fig. 6) " * 3, "ratio 5.5", True)
    text = str(v)
    assert text.startswith("Paper: late gates") and "This run: ratio 5.5" in text
    assert text.endswith(OUTCOMES[True]) and max(map(len, text.splitlines())) <= 90
    assert "opposite" in Verdict("p", "r", False).outcome
    assert "too small" in Verdict("p", "r", None).outcome
