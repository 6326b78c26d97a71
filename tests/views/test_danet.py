"""views.danet: alpha and beta, the query dependence of PAM's maps and its verdict, CAM's
weights."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.attention.danet import DANet
from attncv.train import FitResult
from attncv.views import danet as danetv
from attncv.views import evidence_words as ew
from tests.views.support import shifted, widths_ok


def test_danet_scales_reads_every_block() -> None:
    import attncv

    model = attncv.resnet18(10, attention="danet", width=16)
    scales = danetv.danet_scales(model)
    assert set(scales) == {
        f"layer{s}.{b}.{k}" for s in (3, 4) for b in (0, 1) for k in ("alpha", "beta")
    }
    assert all(v == 0 for v in scales.values())


def test_scales_story_tells_small_alpha_and_a_negative_beta() -> None:
    scales = {"l3.alpha": -0.085, "l3.beta": 0.03, "l4.alpha": 0.01, "l4.beta": -1.35}
    story = danetv.scales_story(scales)
    assert "within ±0.09" in story and "l3" in story and "hardly train" in story
    assert "-1.35 at l4" in story and "subtracts 1.35 times" in story
    story = danetv.scales_story({"l.alpha": 0.5, "l.beta": 0.02})
    assert "+0.50 at l" in story and "barely used" in story


def test_query_dependence_is_zero_for_shared_maps_and_one_for_disjoint_ones() -> None:
    shared = torch.softmax(torch.randn(2, 1, 16), -1).expand(2, 16, 16)
    assert danetv.query_dependence(shared).tolist() == pytest.approx([0.0] * 2, abs=1e-6)
    one_hot = torch.eye(16).expand(3, 16, 16)  # every query attends only to itself
    assert danetv.query_dependence(one_hot).tolist() == pytest.approx([1.0] * 3)
    with pytest.raises(ValueError, match="square"):
        danetv.query_dependence(torch.eye(6).expand(1, 6, 6))
    maps = danetv.query_maps(one_hot, {"corner": (0, 0), "centre": (2, 1)}, 4, 4)
    assert maps["centre"].shape == (3, 4, 4) and maps["centre"][0, 2, 1] == 1


def test_position_weights_are_the_modules_tapped_weights_and_the_control_differs() -> None:
    from attncv.attention import capture

    torch.manual_seed(0)
    m, x = DANet(16, fused=False), torch.randn(2, 16, 3, 4)
    with capture(m, "position") as maps:
        m(x)
    (tapped,) = maps.values()
    torch.testing.assert_close(danetv.position_weights(m, x), tapped)
    from attncv.train.controls import random_projections

    state = torch.random.get_rng_state()
    r = random_projections(m, seed=1)  # one DANet block, as the chapter draws its controls
    assert torch.equal(torch.random.get_rng_state(), state)  # the global random state untouched
    assert not torch.equal(r.query.weight, m.query.weight)
    assert torch.equal(r.value.weight, m.value.weight) and m.query.weight is not r.query.weight
    assert torch.equal(random_projections(m, seed=1).key.weight, r.key.weight)


@pytest.mark.parametrize(("by", "holds"), [(0.1, True), (-0.1, False), (0.0, None)])
def test_danet_verdict_three_outcomes(by: float, holds: bool | None) -> None:
    base = torch.rand(100, generator=torch.Generator().manual_seed(0))
    trained = {"layer3.0": shifted(base, by), "layer3.1": shifted(base, by)}
    v = danetv.danet_verdict(trained, {"layer3.0": base, "layer3.1": base})
    assert v.holds is holds and "layer3.0 and layer3.1" in v.finding
    assert {e.control_label for e in v.evidence} == {ew.RANDOM_QUERY_KEY}
    assert {e.band_how for e in v.evidence} == {ew.band_how(100, "test images")}
    drawn = danetv.danet_verdict(trained, {"layer3.0": base, "layer3.1": base}, draws=3)
    assert {e.control_label for e in drawn.evidence} == {ew.random_query_key(3)}


def test_channel_affinity_gives_each_panel_its_own_scale() -> None:
    fig = danetv.channel_affinity({"a": torch.rand(8, 8), "b": 0.01 * torch.rand(8, 8)})
    clims = [ax.get_images()[0].get_clim() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(set(clims)) == 2 and clims[1][1] < 0.011 and widths_ok(fig)
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    plt.close(fig)


def test_scale_curves_start_at_zero() -> None:
    r = FitResult(
        "danet",
        "d",
        "cpu",
        {},
        history=[{"epoch": 1, "test_acc": 0.3, "layer3.0.alpha": 0.1, "layer3.0.beta": -0.2}],
    )
    fig = danetv.scale_curves(r)
    (line,) = fig.axes[0].get_lines()[:1]
    assert list(line.get_ydata()) == [0.0, 0.1] and widths_ok(fig)
    plt.close(fig)
