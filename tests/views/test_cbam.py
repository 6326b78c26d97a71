"""views.cbam: the class-specificity verdict against re-drawn gates, the class gates and their
profile across blocks, the ablations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.views import cbam as cbamv
from attncv.views import evidence_words as ew
from tests.views.support import widths_ok


def channel_gates(spread_last: float, n: int = 300, seed: int = 0) -> tuple[dict, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    centres = torch.tensor([-1.0, 0.0, 1.0])[labels][:, None]
    first = 0.5 + 0.05 * centres + 0.01 * torch.randn(n, 8, generator=g)
    last = 0.5 + spread_last * centres + 0.01 * torch.randn(n, 16, generator=g)
    return {"layer1.0": first, "layer4.1": last}, labels


@pytest.mark.parametrize(("last", "holds"), [(0.2, True), (0.01, False), (0.05, None)])
def test_specificity_verdict_three_outcomes(last: float, holds: bool | None) -> None:
    controls = [channel_gates(0.05, seed=d)[0] for d in range(1, 5)]
    trained, labels = channel_gates(last)
    v = cbamv.specificity_verdict(trained, controls, labels, 3, resamples=100)
    e = v.evidence[0]
    assert v.holds is holds and e.control == pytest.approx(1.0, rel=0.1)
    assert e.control_label == ew.drawn(ew.REDRAWN_GATES, 4)
    assert e.band_how == ew.draws_band_how(300, "test images", 4)
    assert "layer4.1 over layer1.0" in e.statistic and v.finding == v.words[holds]


def test_specificity_band_holds_the_draws_spread() -> None:
    trained, labels = channel_gates(0.05)
    alike = [channel_gates(0.05, seed=d)[0] for d in range(1, 5)]
    apart = [channel_gates(s, seed=d)[0] for d, s in enumerate((0.02, 0.05, 0.08, 0.11), 1)]
    narrow = cbamv.specificity_verdict(trained, alike, labels, 3, resamples=200)
    wide = cbamv.specificity_verdict(trained, apart, labels, 3, resamples=200)
    assert wide.evidence[0].band > 2 * narrow.evidence[0].band


def test_specificity_verdict_refuses_bad_input() -> None:
    trained, labels = channel_gates(0.05)
    with pytest.raises(ValueError, match="at least two re-drawn"):
        cbamv.specificity_verdict(trained, [trained], labels, 3)
    with pytest.raises(ValueError, match="layer1.0"):
        cbamv.specificity_verdict({"layer4.1": trained["layer4.1"]}, [trained] * 2, labels, 3)


def test_block_spreads_follow_the_class_differences() -> None:
    gates, labels = channel_gates(0.2)
    s = cbamv.block_spreads(gates, labels, 3)
    assert s["layer4.1"] == pytest.approx(0.2, rel=0.1) and s["layer1.0"] < s["layer4.1"] / 2


def test_spread_profile_draws_a_line_per_network() -> None:
    spreads = {
        "trained": {"layer1.0": 0.1, "layer4.1": 0.3},
        "before": {"layer1.0": 0.1, "layer4.1": 0.1},
    }
    fig = cbamv.spread_profile(spreads, marked=cbamv.SPECIFICITY_BLOCKS, note="n")
    assert len(fig.axes[0].get_lines()) == 2 and widths_ok(fig)
    plt.close(fig)


def test_class_gates_draws_on_the_whole_scale() -> None:
    fig = cbamv.class_gates({"a": torch.rand(3, 8), "b": torch.rand(3, 16)}, ["x", "y", "z"])
    assert {im.get_clim() for ax in fig.axes for im in ax.get_images()} == {(0, 1)}
    assert widths_ok(fig)
    plt.close(fig)


def test_cbam_ablation_variants_build() -> None:
    import attncv.attention.cbam as cbam

    for kwargs in cbamv.CBAM_ABLATION.values():
        cbam.CBAM(32, **kwargs)
