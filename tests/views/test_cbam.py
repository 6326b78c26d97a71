"""views.cbam: the centre/border and class-specificity verdicts, the class gates, the
ablations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.views import cbam as cbamv
from attncv.views import evidence_words as ew
from attncv.views.verdicts import MIXED
from tests.views.support import widths_ok


def test_centre_mask_is_the_middle_half_of_each_side() -> None:
    m = cbamv.centre_mask(8, 8)
    assert m.sum() == 16 and m[2:6, 2:6].all()
    assert cbamv.centre_mask(4, 4).sum() == 4 and cbamv.centre_mask(1, 1).all()


def test_centre_border_sign_follows_where_the_gate_is_high() -> None:
    high_centre = torch.full((5, 1, 8, 8), 0.4)
    high_centre[:, :, 2:6, 2:6] = 0.6
    assert cbamv.centre_border(high_centre) == pytest.approx(torch.full((5,), 0.2).double())
    assert (cbamv.centre_border(1 - high_centre) < 0).all()
    assert cbamv.centre_border(torch.ones(2, 1, 1)).isnan().all()  # no border: NaN


def gate_maps(centre: float, n: int = 50, side: int = 8) -> torch.Tensor:
    g = torch.Generator().manual_seed(side)
    m = 0.5 + 0.02 * torch.randn(n, side, side, generator=g)
    m[:, side // 4 : side - side // 4, side // 4 : side - side // 4] += centre
    return m


@pytest.mark.parametrize(("centre", "holds"), [(0.1, True), (-0.1, False), (0.0, None)])
def test_cbam_verdict_three_outcomes_against_the_control(centre: float, holds: bool | None):
    control = {"stage 1": gate_maps(0.05, side=32), "stage 3": gate_maps(0.05)}
    trained = {"stage 1": gate_maps(0.05 + centre, side=32), "stage 3": gate_maps(0.05 + centre)}
    trained["stage 4"] = control["stage 4"] = gate_maps(0.3, side=4)  # dropped: 4x4
    v = cbamv.cbam_verdict(trained, control)
    assert v.holds is holds and len(v.evidence) == 2 and "stage 4" not in v.finding
    assert "Grad-CAM" in v.paper and v.finding
    assert {e.control_label for e in v.evidence} == {ew.UNTRAINED}
    assert {e.band_how for e in v.evidence} == {ew.band_how(len(control["stage 1"]), "test images")}


def test_cbam_verdict_says_where_the_stages_disagree() -> None:
    control = {"stage 1": gate_maps(0.0, side=32), "stage 2": gate_maps(0.0, side=16)}
    trained = {"stage 1": gate_maps(0.1, side=32), "stage 2": gate_maps(-0.1, side=16)}
    v = cbamv.cbam_verdict(trained, control)
    assert (
        v.holds is MIXED  # one stage holds, one shows the opposite: mixed (it read "opposite")
        and "stage 1" in v.finding
        and "the stages disagree" in v.finding
        and "lower on the centre on stage 2" in (v.finding)
    )


def channel_gates(spread_last: float, n: int = 300) -> tuple[dict, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 3
    centres = torch.tensor([-1.0, 0.0, 1.0])[labels][:, None]
    first = 0.5 + 0.05 * centres + 0.01 * torch.randn(n, 8, generator=g)
    last = 0.5 + spread_last * centres + 0.01 * torch.randn(n, 16, generator=g)
    return {"layer1.1": first, "layer4.1": last}, labels


@pytest.mark.parametrize(("last", "holds"), [(0.2, True), (0.01, False), (0.05, None)])
def test_specificity_verdict_three_outcomes(last: float, holds: bool | None) -> None:
    control, labels = channel_gates(0.05)
    trained, _ = channel_gates(last)
    v = cbamv.specificity_verdict(trained, control, labels, 3, resamples=100)
    assert v.holds is holds and v.evidence[0].control == pytest.approx(1.0, rel=0.1)
    assert v.evidence[0].control_label == ew.UNTRAINED
    assert v.evidence[0].band_how == ew.band_how(300, "test images")


def test_class_gates_draws_on_the_whole_scale() -> None:
    fig = cbamv.class_gates({"a": torch.rand(3, 8), "b": torch.rand(3, 16)}, ["x", "y", "z"])
    assert {im.get_clim() for ax in fig.axes for im in ax.get_images()} == {(0, 1)}
    assert widths_ok(fig)
    plt.close(fig)


def test_cbam_ablation_variants_build() -> None:
    import attncv.attention.cbam as cbam

    for kwargs in cbamv.CBAM_ABLATION.values():
        cbam.CBAM(32, **kwargs)
