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
from attncv.views.verdicts import MIXED, Evidence
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
    assert "within ±0.09" in story and "l3" in story and "is small" in story
    assert "hardly train" not in story  # the scales alone cannot say what the weights learned
    assert "-1.35 at l4" in story and "subtracts 1.35 times" in story
    story = danetv.scales_story({"l.alpha": 0.5, "l.beta": 0.02})
    assert "+0.50 at l" in story and "adds little either" in story


def test_largest_picks_the_block_by_the_size_of_its_scale() -> None:
    scales = {"a.alpha": 0.08, "a.beta": 0.2, "b.alpha": -0.09, "b.beta": -1.3}
    assert danetv.largest(scales, "alpha") == "b" and danetv.largest(scales, "beta") == "b"
    assert danetv.largest({"a.alpha": 0.5, "b.alpha": -0.1}, "alpha") == "a"
    with pytest.raises(ValueError, match="no 'beta'"):
        danetv.largest({"a.alpha": 0.5}, "beta")


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
    draws = base + 0.005 * torch.randn(10, 100, generator=torch.Generator().manual_seed(2))
    trained = {"layer3.0": shifted(base, by), "layer3.1": shifted(base, by)}
    v = danetv.danet_verdict(trained, {"layer3.0": draws, "layer3.1": draws})
    assert v.holds is holds and "layer3.0 and layer3.1" in v.finding
    assert {e.control_label for e in v.evidence} == {ew.drawn(ew.MATCHED_QUERY_KEY, 10)}
    assert {e.band_how for e in v.evidence} == {ew.draws_band_how(100, "test images", 10)}


def test_danet_verdict_mixed_blocks_and_bad_controls() -> None:
    base = torch.rand(100, generator=torch.Generator().manual_seed(0))
    draws = base.expand(10, 100)
    v = danetv.danet_verdict(
        {"a": shifted(base, 0.1), "b": shifted(base, -0.1)}, {"a": draws, "b": draws}
    )
    assert v.holds is MIXED and "the blocks disagree" in v.finding
    with pytest.raises(ValueError, match="every block"):
        danetv.danet_verdict({"a": base}, {"b": draws})
    with pytest.raises(ValueError, match=r"\(draws, images\)"):
        danetv.danet_verdict({"a": base}, {"a": base})  # one draw's (N,), not (D, N)


@pytest.mark.parametrize(("by", "holds"), [(-0.2, True), (0.2, False), (0.0, None)])
def test_use_verdict_reads_the_log_loss_against_each_ablation(by, holds) -> None:
    loss = 1.0 + torch.rand(200, generator=torch.Generator().manual_seed(0))
    e = Evidence.paired(
        "test log-loss, l3", shifted(loss, by), loss, ew.SWITCHED_OFF, expected="below", fmt=".3f"
    )
    v = danetv.use_verdict([e], part="position attention at l3", paper="p")
    assert v.holds is holds and "position attention at l3" in v.finding
    assert ew.SWITCHED_OFF in v.finding
    other = Evidence.paired(
        "test log-loss, l3", shifted(loss, -by), loss, ew.UNIFORM_MAP, expected="below"
    )
    if by:
        assert danetv.use_verdict([e, other], part="x", paper="p").holds is MIXED
    with pytest.raises(ValueError, match="no ablation"):
        danetv.use_verdict([], part="x", paper="p")


def test_channel_affinity_gives_each_panel_its_own_scale() -> None:
    fig = danetv.channel_affinity({"a": torch.rand(8, 8), "b": 0.01 * torch.rand(8, 8)})
    clims = [ax.get_images()[0].get_clim() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(set(clims)) == 2 and clims[1][1] < 0.011 and widths_ok(fig)
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    plt.close(fig)


def test_danet_inputs_are_what_each_block_receives() -> None:
    import attncv
    from attncv.views.probe import module_input

    torch.manual_seed(0)
    model = attncv.resnet18(10, attention="danet", width=16).train()
    images = torch.randn(3, 3, 32, 32)
    inputs = danetv.danet_inputs(model, images)
    assert list(inputs) == ["layer3.0", "layer3.1", "layer4.0", "layer4.1"] and model.training
    block = model.layer3[1].after
    torch.testing.assert_close(inputs["layer3.1"], module_input(model, block, images))
    with pytest.raises(ValueError, match="no DANet"):
        danetv.danet_inputs(torch.nn.Conv2d(3, 3, 1), images)


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
