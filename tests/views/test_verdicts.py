"""Verdicts: the dead band around no effect, the three outcomes, text within 90 columns."""

from __future__ import annotations

import json
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


# The book's one rule: trained against control, beyond a measured band, in the paper's direction.
import torch  # noqa: E402

from attncv.train.noise import Noise  # noqa: E402
from attncv.views.verdicts import (  # noqa: E402
    Evidence,
    accuracy_evidence,
    bootstrap_band,
)


def _evidence(trained: float, control: float, band: float = 0.02, expected: str = "above"):
    return Evidence("query TV", trained, control, "random q/k", band, "bootstrap", expected)


@pytest.mark.parametrize(
    "trained, control, expected, holds",
    [
        (0.40, 0.30, "above", True),
        (0.23, 0.31, "above", False),  # self-attention's committed run: below its control
        (0.31, 0.30, "above", None),
        (0.20, 0.30, "below", True),
    ],
)
def test_evidence_compares_with_the_control_not_a_fixed_line(trained, control, expected, holds):
    assert _evidence(trained, control, expected=expected).holds is holds


def test_a_verdict_cannot_hold_when_any_control_contradicts_it() -> None:
    v = Verdict("p", "r", evidence=(_evidence(0.5, 0.3), _evidence(0.23, 0.31)))
    assert v.holds is False
    assert v.short == "the opposite"
    assert Verdict("p", "r", evidence=(_evidence(0.5, 0.3), _evidence(0.31, 0.30))).holds is None


def test_the_finding_says_the_outcome_in_words_and_shows_in_the_callout() -> None:
    words = {True: "learned", False: "unlearned", None: "unclear"}
    v = Verdict("p", "r", evidence=(_evidence(0.23, 0.31),), words=words)
    assert v.finding == "unlearned"
    assert "In words: unlearned" in str(v)
    page = v._repr_html_()
    assert 'class="attncv-verdict attncv-verdict-opposite"' in page
    assert "random q/k" in page and "±0.02" in page
    # every cell names its column, for the phone's stacked layout (attncv.css)
    assert page.count("<td data-label=") == 6 and '<td data-label="noise band">±0.02' in page


def test_the_callout_escapes_html() -> None:
    assert "<b>x</b>" not in Verdict("<b>x</b>", "r", holds=True)._repr_html_()


def test_bootstrap_band_shrinks_with_more_images_and_is_zero_for_constants() -> None:
    gen = torch.Generator().manual_seed(1)
    small = bootstrap_band(torch.rand(25, generator=gen), torch.rand(25, generator=gen))
    large = bootstrap_band(torch.rand(2500, generator=gen), torch.rand(2500, generator=gen))
    assert large < small / 5  # the band is about 1/sqrt(n): 10x the images, ~1/10 the band
    assert bootstrap_band(torch.ones(10), torch.zeros(10)) == 0.0


def test_bootstrap_band_matches_the_normal_approximation() -> None:
    x = torch.randn(400, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    band = bootstrap_band(x, resamples=4000)
    assert band == pytest.approx(1.96 * x.std().item() / 20, rel=0.1)


def test_paired_bootstrap_sees_through_shared_image_noise() -> None:
    base = torch.randn(200, generator=torch.Generator().manual_seed(2))
    shifted = base + 0.05  # the same images, a constant effect
    assert bootstrap_band(shifted, base, paired=True) < 1e-6
    assert bootstrap_band(shifted, base, paired=False) > 0.1


def test_bootstrap_band_refuses_too_few_values() -> None:
    with pytest.raises(ValueError, match="at least two"):
        bootstrap_band([1.0])


def test_a_single_run_inside_sqrt2_sd_does_not_hold() -> None:
    noise = Noise((0.492, 0.476, 0.538), (0, 1, 2))  # the committed brief CPU baseline
    assert noise.sd == pytest.approx(0.0322, abs=5e-4)
    assert noise.band() == pytest.approx(2**0.5 * noise.sd)
    assert accuracy_evidence("SE", 0.522, 0.492, noise).holds is None  # +3.0 points
    assert accuracy_evidence("CBAM", 0.542, 0.492, noise).holds is True  # +5.0 > 4.6
    assert accuracy_evidence("ECA", 0.440, 0.492, noise).holds is False
    assert accuracy_evidence("x", 0.522, 0.492, noise, runs=(3, 3)).band < noise.band()


def test_seeds_needed_clears_the_band() -> None:
    noise = Noise((0.492, 0.476, 0.538), (0, 1, 2))
    n = noise.seeds_needed(0.03)
    assert noise.band(n, n) < 0.03 <= noise.band(n - 1, n - 1)


def test_gain_verdict_uses_the_measured_noise() -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))  # sd 2 points: two single runs, 2.8 points
    for acc, expected in {0.55: True, 0.52: None, 0.45: False}.items():
        v = gain_verdict("SE", acc, 0.50, noise, paper="SE helps (Hu et al. 2018).")
        assert v.holds is expected
        assert v.evidence[0].band == pytest.approx(0.02 * 2**0.5)
        assert "one brief run each" in v.run and "2.0 points" in v.run
    v = gain_verdict("SE", 0.52, 0.50, noise, paper="p")
    assert f"about {noise.seeds_needed(0.52 - 0.50)} seeds of each" in v.finding
    assert "no number of seeds" in gain_verdict("SE", 0.5, 0.5, noise, paper="p").finding
    assert gain_verdict("ECA", 0.4, 0.5, noise, paper="p").finding.startswith("ECA finished 10.0")


def test_gain_verdict_never_asks_for_seeds_a_gap_beyond_the_noise_does_not_need() -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))  # band 2.8 points
    for acc in (0.571, 0.429):  # 7.1 points either way: beyond the band
        v = gain_verdict("SE", acc, 0.50, noise, paper="p")
        assert "seeds of each" not in v.finding and "7.1 points" in v.finding
        assert "cannot say how much of the gap would repeat" in v.finding


# --- shared by the chapters: paired evidence, accuracies of two runs ---------------------------
from attncv.train import FitResult  # noqa: E402
from attncv.views.verdicts import accuracy_verdict, paired_evidence  # noqa: E402


def result(name: str, acc: float) -> FitResult:
    return FitResult(name, "d", "cpu", {}, history=[{"epoch": 1, "test_acc": acc}])


def shifted(base: torch.Tensor, by: float) -> torch.Tensor:
    """``base`` plus ``by`` and a little paired noise of mean zero: a trained value against a
    control whose mean difference is exactly ``by``."""
    noise = torch.randn(base.shape, generator=torch.Generator().manual_seed(1))
    return base + by + 0.01 * (noise - noise.mean())


def test_paired_evidence_band_comes_from_the_bootstrap() -> None:
    base = torch.rand(200, generator=torch.Generator().manual_seed(0))
    e = paired_evidence("s", shifted(base, 0.1), base, "ctrl")
    assert e.holds is True and 0 < e.band < 0.01 and "200 test images" in e.band_how
    assert paired_evidence("s", shifted(base, -0.1), base, "ctrl").holds is False
    assert paired_evidence("s", shifted(base, 0.0), base, "ctrl").holds is None


@pytest.mark.parametrize(("acc", "holds"), [(0.60, True), (0.40, False), (0.51, None)])
def test_accuracy_verdict_three_outcomes(acc: float, holds: bool | None) -> None:
    noise = Noise((0.47, 0.50, 0.53), (0, 1, 2))  # sd 3 points: band 4.2 points
    v = accuracy_verdict("it helps", "CBAM", result("c", acc), result("b", 0.50), noise)
    assert v.holds is holds
    if holds is None:
        assert f"about {noise.seeds_needed(acc - 0.50)} seeds of each" in v.finding


from IPython.core.formatters import DisplayFormatter  # noqa: E402

from attncv.views.verdicts import RECORD_MIME  # noqa: E402


def test_a_verdict_displays_its_callout_and_carries_its_record_as_json() -> None:
    ev = Evidence("class spread", 2.4, 0.6, "the network before training", 0.4, "95% bootstrap")
    nothing = Evidence("gap", float("nan"), 0.5, "the baseline", 0.1, "95% bootstrap")
    verdict = Verdict("Late gates are class-specific.", "r", evidence=(ev, nothing), words={})
    data, _ = DisplayFormatter().format(verdict)  # what a notebook stores for the cell
    assert {"text/plain", "text/html", RECORD_MIME} <= set(data)
    assert "attncv-verdict-title" in data["text/html"]
    record = json.loads(json.dumps(data[RECORD_MIME], allow_nan=False))  # strict JSON: no NaN
    assert record["outcome"] == verdict.short == "too small to tell" and record["holds"] is None
    assert record["paper"] == "Late gates are class-specific."
    first, second = record["evidence"]
    assert first["trained"] == 2.4 and first["control_label"] == "the network before training"
    assert first["band_how"] == "95% bootstrap" and first["outcome"] == "holds"
    assert first["cells"] == ev.row() and second["trained"] is None  # NaN: nothing measured
