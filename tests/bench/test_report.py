"""The notes' claims in bench/report.py: each stated once in the notes' words, and the family
claims judged with modules, not runs, as the unit."""

from __future__ import annotations

from attncv.bench import report
from attncv.bench.stats import welch_interval
from attncv.bench.sweep import Sweep
from attncv.views.verdicts import MIXED
from tests.bench.test_sweep import _claim_run

SEEDS = (0, 1, 2)


_run = _claim_run  # one run's row as the notes' claims read it (shared with test_sweep)


def _sweep(table: list[tuple[str, str, float]]) -> Sweep:
    """Three seeds a module, 0.1 points apart: tight seeds, so only modules can be noisy."""
    runs = [_run(n, f, s, a + 0.001 * s) for s in SEEDS for n, f, a in table]
    return Sweep({"name": "fast"}, {"train": {"epochs": 15}, "width": 16}, "test data", {}, runs)


# Three modules a family whose means spread by 7 points; spatial's sit 8-9 points lower.
SPREAD = [
    ("none", "none", 0.60),
    ("se", "channel", 0.55),
    ("eca", "channel", 0.62),
    ("sk", "channel", 0.69),
    ("cbam", "mixed", 0.56),
    ("danet", "mixed", 0.63),
    ("ccnet", "mixed", 0.70),
    ("self_attention", "spatial", 0.47),
    ("non_local", "spatial", 0.54),
    ("stn", "spatial", 0.61),
]


def test_family_claims_take_modules_as_the_unit() -> None:
    """Pooling the nine runs of each family as replicates would say spatial does worst; with
    each module's mean as one value the band is Welch's over three module means a side, and the
    same table cannot tell."""
    s = _sweep(SPREAD)
    family = {f: [r for r in s.runs if r["family"] == f] for f in ("channel", "spatial")}
    runs = {f: [r["best5_acc"] for r in v] for f, v in family.items()}
    delta, half, _ = welch_interval(runs["spatial"], runs["channel"])
    assert delta < -half  # pooled runs: "holds" (spatial below channel beyond the band)

    claims = {c.paper.split()[0]: c for c in report.notes_claims(s)}
    spatial, mixed = claims["spatial"], claims["mixed"]
    assert spatial.holds is None and spatial.short == "too small to tell"
    against_channel = spatial.evidence[0]
    assert against_channel.control_label == "channel"
    assert against_channel.band_how.startswith(
        "95% Welch interval over module means, 3 and 3 modules"
    )
    means = {f: [a for _, g, a in SPREAD if g == f] for f in ("channel", "spatial")}
    m_delta, m_half, _ = welch_interval(
        [m + 0.001 for m in means["spatial"]], [m + 0.001 for m in means["channel"]]
    )
    assert abs(against_channel.difference - m_delta) < 1e-12
    assert abs(against_channel.band - m_half) < 1e-12 and m_half > abs(m_delta)
    assert "each module the mean of its seeds" in spatial.run and "(3 modules)" in spatial.run
    assert mixed.holds is None and "noise between modules" in mixed.finding


def test_per_module_comparisons_against_the_baseline_stay_over_seeds() -> None:
    channel = {c.paper.split()[0]: c for c in report.notes_claims(_sweep(SPREAD))}["channel"]
    assert all(
        e.band_how.startswith("Welch's 95% interval, 3 and 3 runs") for e in channel.evidence
    )


def test_fairly_good_is_not_the_best() -> None:
    """较好: above one family beyond the noise between modules and below none holds, though
    mixed is not the best family; below one and above none is the opposite."""
    table = [
        ("none", "none", 0.60),
        ("se", "channel", 0.64),
        ("eca", "channel", 0.66),
        ("cbam", "mixed", 0.62),
        ("danet", "mixed", 0.63),
        ("self_attention", "spatial", 0.50),
        ("non_local", "spatial", 0.51),
    ]
    mixed = {c.paper.split()[0]: c for c in report.notes_claims(_sweep(table))}["mixed"]
    assert [e.holds for e in mixed.evidence] == [None, True]  # vs channel; vs spatial
    assert mixed.holds is True and "below none" in mixed.finding
    worse = [(n, f, a - 0.12 if f == "mixed" else a) for n, f, a in table]
    mixed = {c.paper.split()[0]: c for c in report.notes_claims(_sweep(worse))}["mixed"]
    assert [e.holds for e in mixed.evidence] == [False, None]
    assert mixed.holds is False


def test_each_claim_once_in_the_notes_words() -> None:
    claims = report.notes_claims(_sweep(SPREAD))
    papers = [c.paper for c in claims]
    assert len(papers) == len(set(papers)) == 4
    assert [p.split()[0] for p in papers] == ["SK", "channel", "mixed", "spatial"]
    assert sum("SK" in p for p in papers) == 1  # SK's claim once: accuracy and cost together
    mixed = claims[2]
    assert "较好" in mixed.paper and '"fairly good"' in mixed.paper
    assert "not the best" in mixed.paper and "best overall" not in " ".join(papers)
    assert "较好" in mixed.note and "较好" in mixed._repr_html_()
    assert all(c.source == "Notes" for c in claims)


def test_sk_claim_judges_accuracy_and_cost_together() -> None:
    table = [
        ("none", "none", 0.50, 100, 50.0),
        ("sk", "channel", 0.56, 130, 20.0),
        ("se", "channel", 0.52, 101, 45.0),
        ("cbam", "mixed", 0.49, 102, 30.0),
    ]
    runs = [_run(n, f, s, a + 0.002 * s, p, i) for s in SEEDS for n, f, a, p, i in table]
    s = Sweep({"name": "fast"}, {"train": {"epochs": 15}, "width": 16}, "test data", {}, runs)
    (sk, *_) = report.notes_claims(s)
    assert sk.holds is True and "SE" in sk.run and len(sk.evidence) == 1
    assert "1.30 times the baseline's parameters" in sk.run and "costs more" in sk.finding
    slow = [r | {"train_ips": 60.0} if r["name"] == "sk" else r for r in runs]
    (sk, *_) = report.notes_claims(Sweep(s.recipe, s.scale, s.data, {}, slow))
    assert sk.holds is MIXED
    assert sk.short == "mixed" and "not both the heaviest and the slowest" in sk.finding
