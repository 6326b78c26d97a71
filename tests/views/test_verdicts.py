"""Verdicts: the dead band around no effect, the four outcomes (holds, the opposite, too small to
tell, mixed), the band at the book's one level (95%), text within 90 columns."""

from __future__ import annotations

import json
import math

import pytest

from attncv.views.verdicts import MIXED, OUTCOMES, SHORT, Verdict, both, judge
from tests.views.support import shifted


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
    assert both(None, False) is False and both(False, False) is False  # none holds: the opposite
    assert both() is None


def test_both_is_mixed_where_the_evidence_disagrees() -> None:
    """Some pieces hold and some show the opposite: mixed, not the opposite (as it was)."""
    assert both(True, False) is MIXED and both(False, True, None) is MIXED
    assert both(MIXED, True) is MIXED and both(MIXED) is MIXED  # a mixed part stays mixed


def test_mixed_is_a_string_that_is_neither_true_nor_false() -> None:
    import copy
    import pickle

    assert MIXED == "mixed" and SHORT[MIXED] == "mixed" and "mixed" in OUTCOMES[MIXED]
    with pytest.raises(TypeError, match="is MIXED"):
        bool(MIXED)  # `if verdict.holds:` must not take a mixed verdict for one that holds
    assert copy.deepcopy(MIXED) is MIXED and pickle.loads(pickle.dumps(MIXED)) is MIXED
    assert Verdict("p", "r", "mixed").holds is MIXED  # a record's string reads back as MIXED
    with pytest.raises(ValueError, match="MIXED"):
        Verdict("p", "r", "maybe")


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
    assert v.holds is MIXED  # one holds, one shows the opposite: mixed (it read "the opposite")
    assert v.short == "mixed"
    assert Verdict("p", "r", evidence=(_evidence(0.5, 0.3), _evidence(0.31, 0.30))).holds is None
    opposite = Verdict("p", "r", evidence=(_evidence(0.23, 0.31), _evidence(0.31, 0.30)))
    assert opposite.holds is False and opposite.short == "the opposite"


def test_a_mixed_verdict_says_what_disagrees() -> None:
    held, against = _evidence(0.5, 0.3), _evidence(0.23, 0.31, expected="above")
    against = Evidence("far mass", 0.23, 0.31, "uniform map", 0.02, "bootstrap")
    v = Verdict("p", "r", evidence=(held, against))
    assert v.finding == (
        "The evidence disagrees: it bears the paper's observation out for query TV against "
        "random q/k, and shows the opposite for far mass against uniform map."
    )
    assert v.outcome == OUTCOMES[MIXED] and "Verdict: mixed" in v._repr_html_()
    assert 'class="attncv-verdict attncv-verdict-mixed"' in v._repr_html_()
    record = json.loads(json.dumps(v.record(), allow_nan=False))
    assert record["holds"] == "mixed" and record["outcome"] == "mixed"
    assert [e["outcome"] for e in record["evidence"]] == ["holds", "the opposite"]
    worded = Verdict("p", "r", evidence=(held, against), words={MIXED: "Half of it holds."})
    assert worded.finding == "Half of it holds." and "In words: Half of it holds." in str(worded)
    notes = Verdict("p", "r", source="Notes", evidence=(held, against))
    assert "bears the notes' claim out" in notes.finding and "mixed" in notes.outcome


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


def test_a_single_run_inside_the_95_band_does_not_hold() -> None:
    noise = Noise((0.492, 0.476, 0.538), (0, 1, 2))  # the committed brief CPU baseline
    assert noise.sd == pytest.approx(0.0322, abs=5e-4)
    # 95%: Student's t at the seeds' 2 df, 4.303, times the sd of a difference of two runs
    assert noise.band() == pytest.approx(4.303 * 2**0.5 * noise.sd)  # 19.6 points
    assert accuracy_evidence("CBAM", 0.542, 0.492, noise).holds is None  # +5.0: was "holds"
    assert accuracy_evidence("CBAM", 0.700, 0.492, noise).holds is True  # +20.8 > 19.6
    assert accuracy_evidence("ECA", 0.290, 0.492, noise).holds is False
    assert accuracy_evidence("x", 0.522, 0.492, noise, runs=(3, 3)).band < noise.band()
    assert "95% interval of a difference of two single runs" in noise.how()


def test_accuracy_evidence_against_the_baseline_mean() -> None:
    """The baseline is the mean of its seeds: one run against the mean of n, band
    t sd sqrt(1 + 1/n); seeds on both sides: Welch's interval."""
    from attncv.train.noise import welch_interval

    noise = Noise((0.468, 0.472, 0.531), (0, 1, 2))  # the committed baseline (SE chapter)
    e = accuracy_evidence("SE", 0.539, noise.accuracies, noise)
    assert e.control == pytest.approx(noise.mean) == pytest.approx(0.49033, abs=1e-5)
    assert e.band == pytest.approx(4.303 * (1 + 1 / 3) ** 0.5 * noise.sd)
    assert e.band == pytest.approx(noise.band(1, 3)) and e.band_how == noise.how(1, 3)
    assert e.band < accuracy_evidence("SE", 0.539, 0.468, noise).band  # a mean is steadier
    welch = accuracy_evidence("SE", (0.54, 0.55, 0.53), noise.accuracies, noise)
    _, half, df = welch_interval((0.54, 0.55, 0.53), noise.accuracies)
    assert welch.band == pytest.approx(half) and welch.trained == pytest.approx(0.54)
    assert "95% Welch interval" in welch.band_how and f"{df:.1f} df" in welch.band_how
    with pytest.raises(ValueError, match="runs"):
        accuracy_evidence("SE", 0.539, noise.accuracies, noise, runs=(1, 1))


def test_the_committed_se_verdict_at_95() -> None:
    """SE 53.9% against the baseline's seeds 46.8%, 47.2%, 53.1%: against seed 0 at one SD it
    read "holds" (+7.1 points, band ±5.0); at 95% against the baseline's mean it is too small
    to tell (+4.9 points, band ±17.5 points)."""
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.468, 0.472, 0.531), (0, 1, 2))
    v = gain_verdict("SE", 0.539, noise.accuracies, noise, paper="p")
    assert v.holds is None and v.short == "too small to tell"
    assert v.evidence[0].difference == pytest.approx(0.0487, abs=1e-4)
    assert v.evidence[0].band == pytest.approx(0.175, abs=1e-3)
    assert "the baseline 49.0% (the mean of 3 seeds: 46.8%, 47.2%, 53.1%)" in v.run
    assert "one brief run against 3 seeds" in v.run
    assert v.finding == (
        "SE finished +4.9 points against the baseline, within the 95% noise band of ±17.5 "
        "points for one run against a mean of 3: one seed of SE cannot rank them; telling a "
        f"gap of 4.9 points from chance would take about {noise.seeds_needed(0.0487)} seeds of "
        "each."
    )
    assert gain_verdict("SE", 0.539, 0.468, noise, paper="p").holds is None  # seed 0, 95%


def test_seeds_needed_clears_the_band() -> None:
    """n seeds per arm, the sd then measured from their 2n runs: t(2n - 2) sd sqrt(2/n)."""
    from attncv.train.noise import t_quantile

    noise = Noise((0.492, 0.476, 0.538), (0, 1, 2))
    n = noise.seeds_needed(0.03)

    def band(k: int) -> float:
        return t_quantile(2 * k - 2) * noise.sd * (2 / k) ** 0.5

    assert band(n) < 0.03 <= band(n - 1)
    assert noise.seeds_needed(0.03, level=0.99) > n  # a stricter level needs more seeds


def test_gain_verdict_uses_the_measured_noise() -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))  # sd 2 points: two single runs, 12.2 points
    for acc, expected in {0.65: True, 0.55: None, 0.35: False}.items():
        v = gain_verdict("SE", acc, 0.50, noise, paper="SE helps (Hu et al. 2018).")
        assert v.holds is expected
        assert v.evidence[0].band == pytest.approx(4.303 * 0.02 * 2**0.5)
        assert "one brief run each" in v.run and "2.0 points" in v.run
    v = gain_verdict("SE", 0.52, 0.50, noise, paper="p")
    assert f"about {noise.seeds_needed(0.52 - 0.50)} seeds of each" in v.finding
    assert "no number of seeds" in gain_verdict("SE", 0.5, 0.5, noise, paper="p").finding
    assert gain_verdict("ECA", 0.3, 0.5, noise, paper="p").finding.startswith("ECA finished 20.0")


def test_gain_verdict_never_asks_for_seeds_a_gap_beyond_the_noise_does_not_need() -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))  # band 12.2 points
    for acc in (0.65, 0.35):  # 15.0 points either way: beyond the band
        v = gain_verdict("SE", acc, 0.50, noise, paper="p")
        assert "seeds of each" not in v.finding and "15.0 points" in v.finding
        assert "cannot say how much of the gap would repeat" in v.finding
        assert "beyond the 95% noise band of ±12.2 points for two single runs" in v.finding


def test_gain_verdict_with_seeds_on_both_sides_uses_welch() -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))
    v = gain_verdict("SE", (0.60, 0.61, 0.62), noise.accuracies, noise, paper="p")
    assert v.holds is True and "Welch" in v.evidence[0].band_how
    assert "means of 3 and 3 seeds (Welch)" in v.finding and "3 and 3 seeds" in v.run
    assert "cannot say" not in v.finding  # three seeds of SE: the gap is not one run's
    v = gain_verdict("SE", (0.50, 0.53), noise.accuracies, noise, paper="p")
    assert v.holds is None and "2 seeds of SE cannot rank them" in v.finding


def test_gain_verdict_says_one_seed_not_one_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    from attncv.views.verdicts import gain_verdict

    noise = Noise((0.48, 0.50, 0.52), (0, 1, 2))
    monkeypatch.setattr(Noise, "seeds_needed", lambda self, d, level=0.95: 1)
    v = gain_verdict("SE", 0.52, 0.50, noise, paper="p")
    assert "about 1 seed of each" in v.finding and "1 seeds" not in v.finding


def test_a_band_never_shows_less_precision_than_its_difference() -> None:
    """+0.085 beside a band printed ±0.08 reads as inconsistent: both take the band's decimals
    (two significant digits of the band, at least the format's)."""
    e = Evidence("s", 0.585, 0.5, "c", 0.0834, "95% bootstrap", fmt=".2f")
    assert "a difference of +0.085" in e.text() and "±0.083" in e.text()
    assert e.row()[1:5] == ["0.585", "0.500 (c)", "+0.085", "±0.083 (95% bootstrap)"]
    small = Evidence("acc", 0.4852, 0.4800, "c", 0.0043, "95% bootstrap", fmt=".1%")
    assert small.row()[3:5] == ["+0.52 points", "±0.43 points (95% bootstrap)"]
    wide = Evidence("acc", 0.539, 0.490, "c", 0.175, "sd", fmt=".1%")
    assert wide.row()[1:5] == ["53.9%", "49.0% (c)", "+4.9 points", "±17.5 points (sd)"]
    assert Evidence("z", 0.5, 0.5, "c", 0.0, "sd", fmt=".2f").row()[4] == "±0.00 (sd)"


# --- shared by the chapters: paired evidence, accuracies of two runs ---------------------------
from attncv.train import FitResult  # noqa: E402
from attncv.views.verdicts import accuracy_verdict, paired_evidence  # noqa: E402


def result(name: str, acc: float) -> FitResult:
    return FitResult(name, "d", "cpu", {}, history=[{"epoch": 1, "test_acc": acc}])


def test_paired_evidence_band_comes_from_the_bootstrap() -> None:
    base = torch.rand(200, generator=torch.Generator().manual_seed(0))
    e = paired_evidence("s", shifted(base, 0.1), base, "ctrl")
    assert e.holds is True and 0 < e.band < 0.01 and "200 test images" in e.band_how
    assert paired_evidence("s", shifted(base, -0.1), base, "ctrl").holds is False
    assert paired_evidence("s", shifted(base, 0.0), base, "ctrl").holds is None


@pytest.mark.parametrize(("acc", "holds"), [(0.75, True), (0.25, False), (0.51, None)])
def test_accuracy_verdict_three_outcomes(acc: float, holds: bool | None) -> None:
    noise = Noise((0.47, 0.50, 0.53), (0, 1, 2))  # sd 3 points: 95% band 18.3 points
    v = accuracy_verdict("it helps", "CBAM", result("c", acc), result("b", 0.50), noise)
    assert v.holds is holds
    if holds is None:
        assert f"about {noise.seeds_needed(acc - 0.50)} seeds of each" in v.finding


def test_accuracy_verdict_against_the_baseline_seeds() -> None:
    noise = Noise((0.47, 0.50, 0.53), (0, 1, 2))
    seeds = [result(f"b{s}", a) for s, a in zip(noise.seeds, noise.accuracies, strict=True)]
    v = accuracy_verdict("it helps", "CBAM", result("c", 0.56), seeds, noise)
    assert v.evidence[0].control == pytest.approx(0.50) and v.evidence[0].band == pytest.approx(
        noise.band(1, 3)
    )


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
