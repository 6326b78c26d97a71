"""views.mixed: the mixed chapters' measurements, figures and verdicts on hand-made inputs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.attention.ccnet import CCNet
from attncv.attention.danet import DANet
from attncv.train import FitResult, Noise
from attncv.views import mixed, style


def result(name: str, acc: float) -> FitResult:
    return FitResult(name, "d", "cpu", {}, history=[{"epoch": 1, "test_acc": acc}])


def shifted(base: torch.Tensor, by: float) -> torch.Tensor:
    """``base`` plus ``by`` and a little paired noise of mean zero: a trained value against a
    control whose mean difference is exactly ``by``."""
    noise = torch.randn(base.shape, generator=torch.Generator().manual_seed(1))
    return base + by + 0.01 * (noise - noise.mean())


def widths_ok(fig) -> bool:
    return fig.get_figwidth() <= style.MAX_WIDTH + 1e-9


# --- shared ----------------------------------------------------------------------------------


def test_map_grid_draws_maps_beside_the_photos_on_one_scale() -> None:
    images = torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8)
    rows = {"stage 1": torch.rand(3, 8, 8), "stage 2": torch.rand(3, 4, 4)}
    fig = mixed.map_grid(images, rows, titles=["a", "b", "c"], vmin=0, vmax=1, note="Data: x.")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert all(len(ax.get_images()) == 1 for ax in panels)  # nothing blended over a photo
    maps = [ax.get_images()[0] for ax in panels[3:]]
    assert len(maps) == 6 and {im.get_clim() for im in maps} == {(0, 1)}
    assert {im.get_alpha() for im in maps} == {None}
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1 and widths_ok(fig)
    plt.close(fig)


def test_map_grid_gives_a_row_its_own_scale_and_colour_bar() -> None:
    images = torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8)
    rows = {"pass 1": torch.rand(2, 4, 4), "change": torch.randn(2, 4, 4)}
    scales = {"change": (-2.0, 2.0, "pass 2 - pass 1", mixed.DIVERGING)}
    fig = mixed.map_grid(images, rows, scales=scales, marks={"pass 1": (3.0, 5.0)})
    clims = {im.get_clim() for ax in fig.axes for im in ax.get_images()[:1] if ax.images}
    assert (-2.0, 2.0) in clims and (0.0, 1.0) in clims
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    plt.close(fig)


def test_paired_evidence_band_comes_from_the_bootstrap() -> None:
    base = torch.rand(200, generator=torch.Generator().manual_seed(0))
    e = mixed.paired_evidence("s", shifted(base, 0.1), base, "ctrl")
    assert e.holds is True and 0 < e.band < 0.01 and "200 test images" in e.band_how
    assert mixed.paired_evidence("s", shifted(base, -0.1), base, "ctrl").holds is False
    assert mixed.paired_evidence("s", shifted(base, 0.0), base, "ctrl").holds is None


@pytest.mark.parametrize(("acc", "holds"), [(0.60, True), (0.40, False), (0.51, None)])
def test_accuracy_verdict_three_outcomes(acc: float, holds: bool | None) -> None:
    noise = Noise((0.47, 0.50, 0.53), (0, 1, 2))  # sd 3 points: band 4.2 points
    v = mixed.accuracy_verdict("it helps", "CBAM", result("c", acc), result("b", 0.50), noise)
    assert v.holds is holds
    if holds is None:
        assert f"about {noise.seeds_needed(acc - 0.50)} seeds of each" in v.finding


# --- CBAM ------------------------------------------------------------------------------------


def test_centre_mask_is_the_middle_half_of_each_side() -> None:
    m = mixed.centre_mask(8, 8)
    assert m.sum() == 16 and m[2:6, 2:6].all()
    assert mixed.centre_mask(4, 4).sum() == 4 and mixed.centre_mask(1, 1).all()


def test_centre_border_sign_follows_where_the_gate_is_high() -> None:
    high_centre = torch.full((5, 1, 8, 8), 0.4)
    high_centre[:, :, 2:6, 2:6] = 0.6
    assert mixed.centre_border(high_centre) == pytest.approx(torch.full((5,), 0.2).double())
    assert (mixed.centre_border(1 - high_centre) < 0).all()
    assert mixed.centre_border(torch.ones(2, 1, 1)).isnan().all()  # no border: NaN


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
    v = mixed.cbam_verdict(trained, control)
    assert v.holds is holds and len(v.evidence) == 2 and "stage 4" not in v.finding
    assert "Grad-CAM" in v.paper and v.finding


def test_cbam_verdict_says_where_the_stages_disagree() -> None:
    control = {"stage 1": gate_maps(0.0, side=32), "stage 2": gate_maps(0.0, side=16)}
    trained = {"stage 1": gate_maps(0.1, side=32), "stage 2": gate_maps(-0.1, side=16)}
    v = mixed.cbam_verdict(trained, control)
    assert (
        v.holds is False
        and "stage 1" in v.finding
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
    v = mixed.specificity_verdict(trained, control, labels, 3, resamples=100)
    assert v.holds is holds and v.evidence[0].control == pytest.approx(1.0, rel=0.1)


def test_class_gates_draws_on_the_whole_scale() -> None:
    fig = mixed.class_gates({"a": torch.rand(3, 8), "b": torch.rand(3, 16)}, ["x", "y", "z"])
    assert {im.get_clim() for ax in fig.axes for im in ax.get_images()} == {(0, 1)}
    assert widths_ok(fig)
    plt.close(fig)


def test_cbam_ablation_variants_build() -> None:
    import attncv.attention.cbam as cbam

    for kwargs in mixed.CBAM_ABLATION.values():
        cbam.CBAM(32, **kwargs)


# --- DANet -----------------------------------------------------------------------------------


def test_danet_scales_reads_every_block() -> None:
    import attncv

    model = attncv.resnet18(10, attention="danet", width=16)
    scales = mixed.danet_scales(model)
    assert set(scales) == {
        f"layer{s}.{b}.{k}" for s in (3, 4) for b in (0, 1) for k in ("alpha", "beta")
    }
    assert all(v == 0 for v in scales.values())


def test_scales_story_tells_small_alpha_and_a_negative_beta() -> None:
    scales = {"l3.alpha": -0.085, "l3.beta": 0.03, "l4.alpha": 0.01, "l4.beta": -1.35}
    story = mixed.scales_story(scales)
    assert "within ±0.09" in story and "l3" in story and "hardly train" in story
    assert "-1.35 at l4" in story and "subtracts 1.35 times" in story
    story = mixed.scales_story({"l.alpha": 0.5, "l.beta": 0.02})
    assert "+0.50 at l" in story and "barely used" in story


def test_query_dependence_is_zero_for_shared_maps_and_one_for_disjoint_ones() -> None:
    shared = torch.softmax(torch.randn(2, 1, 16), -1).expand(2, 16, 16)
    assert mixed.query_dependence(shared).tolist() == pytest.approx([0.0] * 2, abs=1e-6)
    one_hot = torch.eye(16).expand(3, 16, 16)  # every query attends only to itself
    assert mixed.query_dependence(one_hot).tolist() == pytest.approx([1.0] * 3)
    with pytest.raises(ValueError, match="square"):
        mixed.query_dependence(torch.eye(6).expand(1, 6, 6))
    maps = mixed.query_maps(one_hot, {"corner": (0, 0), "centre": (2, 1)}, 4, 4)
    assert maps["centre"].shape == (3, 4, 4) and maps["centre"][0, 2, 1] == 1


def test_position_weights_are_the_modules_tapped_weights_and_the_control_differs() -> None:
    from attncv.attention import capture

    torch.manual_seed(0)
    m, x = DANet(16, fused=False), torch.randn(2, 16, 3, 4)
    with capture(m, "position") as maps:
        m(x)
    (tapped,) = maps.values()
    torch.testing.assert_close(mixed.position_weights(m, x), tapped)
    from attncv.views.spatial import random_projections

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
    v = mixed.danet_verdict(trained, {"layer3.0": base, "layer3.1": base})
    assert v.holds is holds and "layer3.0 and layer3.1" in v.finding


def test_channel_affinity_gives_each_panel_its_own_scale() -> None:
    fig = mixed.channel_affinity({"a": torch.rand(8, 8), "b": 0.01 * torch.rand(8, 8)})
    clims = [ax.get_images()[0].get_clim() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(set(clims)) == 2 and clims[1][1] < 0.011 and widths_ok(fig)
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    plt.close(fig)


# --- CCNet -----------------------------------------------------------------------------------


def test_attention_costs_agree_with_the_formulas() -> None:
    (row,) = mixed.attention_costs((8,), channels=16)
    c, hw, s = 16, 64, 8
    proj = hw * (2 * c * c // 8 + c * c)
    assert row["full_macs"] == proj + hw * hw * (c // 8 + c)
    assert row["rcca_macs"] == 2 * (proj + hw * (s + s) * (c // 8 + c))
    assert row["entries_x"] == hw * hw / (2 * hw * 2 * s) and row["bytes_x"] > 0
    assert "8x8" in str(mixed.cost_table([row]))


def test_influence_reaches_the_cross_in_one_pass_and_everything_in_two() -> None:
    torch.manual_seed(0)
    m = mixed.uniform(CCNet(16), gamma=1.0)
    x = torch.randn(2, 16, 6, 7)
    at = (2, 3)
    one = mixed.influence(mixed.passes(m, 1), x[:1], at) > 0
    assert torch.equal(one, mixed.cross_mask(6, 7, at))
    assert (mixed.influence(mixed.passes(m, 2), x[:1], at) > 0).all()
    first = mixed.off_cross_shares(mixed.passes(m, 1), x, [at])
    assert first.shape == (2,) and first.abs().max() < 1e-12
    second = mixed.off_cross_shares(mixed.passes(m, 2), x, [at, (0, 0)])
    assert ((0 < second) & (second < 1)).all()


def test_influences_of_a_batch_are_each_images_own() -> None:
    torch.manual_seed(0)
    m = CCNet(8)
    with torch.no_grad():
        m.gamma.fill_(0.5)
    x = torch.randn(3, 8, 5, 6)
    batch = mixed.influences(mixed.passes(m, 2), x, (1, 2))
    assert batch.shape == (3, 5, 6)
    for i in range(3):
        torch.testing.assert_close(batch[i], mixed.influence(mixed.passes(m, 2), x[i:], (1, 2)))


def test_uniform_keeps_the_trained_gamma_unless_told() -> None:
    m = CCNet(8)
    with torch.no_grad():
        m.gamma.fill_(0.07)
    assert mixed.uniform(m).gamma.item() == pytest.approx(0.07)
    assert mixed.uniform(m, gamma=1.0).gamma.item() == 1.0 and m.gamma.item() != 1.0
    assert not mixed.uniform(m).query.weight.any()


def test_module_input_is_what_the_module_receives() -> None:
    import attncv

    model = attncv.resnet18(10, attention="ccnet", width=16).train()
    x = mixed.module_input(model, model.layer2[1].after, torch.randn(2, 3, 32, 32))
    assert x.shape == (2, 32, 16, 16) and model.training


def test_cross_grid_puts_the_weights_on_the_row_and_column() -> None:
    w = torch.arange(8.0)[None]  # (1, H + W) with H = W = 4
    grid = mixed.cross_grid(w, (1, 2))
    assert grid[0, 3, 2] == 3 and grid[0, 1, 0] == 4 and grid[0, 0, 0].isnan()


@pytest.mark.parametrize(("by", "holds"), [(0.05, True), (-0.05, False), (0.0, None)])
def test_ccnet_verdict_three_outcomes(by: float, holds: bool | None) -> None:
    base = 0.1 + 0.05 * torch.rand(40, generator=torch.Generator().manual_seed(0))
    v = mixed.ccnet_verdict(shifted(base, by), base, gamma=0.075)
    assert v.holds is holds and "+0.075" in v.evidence[0].control_label


def test_ccnet_verdict_reads_shares_of_a_few_hundredths_of_a_percent() -> None:
    trained = torch.full((16,), 0.0003)  # the committed run's order of magnitude
    v = mixed.ccnet_verdict(trained, torch.full((16,), 0.0010), gamma=0.004)
    row = v.evidence[0].row()
    assert row[1] == "0.030%" and row[2].startswith("0.100%") and row[3] == "-0.070 points"
    assert "0.030% of a pixel's context" in v.finding and "against 0.100%" in v.finding


# --- masks -----------------------------------------------------------------------------------


def test_variance_parts_separate_channel_position_and_interaction() -> None:
    torch.manual_seed(0)
    channel = torch.rand(4, 8, 1, 1).expand(4, 8, 5, 5)
    position = torch.rand(4, 1, 5, 5).expand(4, 8, 5, 5)
    assert mixed.variance_parts(channel)["channel"] == pytest.approx(1.0)
    assert mixed.variance_parts(position)["position"] == pytest.approx(1.0)
    mixture = mixed.variance_parts(channel + position + 0.1 * torch.randn(4, 8, 5, 5))
    assert sum(mixture.values()) == pytest.approx(1.0)
    assert all(0 < v < 1 for v in mixture.values())
    flat = mixed.variance_parts(torch.full((2, 3, 4, 4), 0.5))
    assert all(v != v for v in flat.values())
    per = mixed.variance_parts(torch.cat([channel, position]), per_image=True)
    assert per["channel"].shape == (8,) and per["channel"][:4].tolist() == pytest.approx([1] * 4)
    assert per["position"][4:].tolist() == pytest.approx([1] * 4)


def test_variance_parts_do_not_favour_channels_like_a_spread_of_channel_means() -> None:
    """The old test (spread of channel means against spread of the channel-averaged map)
    calls a mask whose maps differ per channel "a channel gate"; the decomposition does not."""
    torch.manual_seed(0)
    per_channel_maps = torch.rand(2, 16, 8, 8)  # each channel its own spatial map
    parts = mixed.variance_parts(per_channel_maps)
    assert parts["interaction"] > 0.8


def test_position_dependent_averages_the_blocks_per_image() -> None:
    torch.manual_seed(0)
    channel = torch.rand(3, 8, 1, 1).expand(3, 8, 4, 4)
    position = torch.rand(3, 1, 4, 4).expand(3, 8, 4, 4)
    share = mixed.position_dependent({"a": channel, "b": position})
    assert share.tolist() == pytest.approx([0.5] * 3)
    one_at_a_time = mixed.position_dependent(m for m in (channel, position))
    assert one_at_a_time.tolist() == pytest.approx([0.5] * 3)


@pytest.mark.parametrize(("by", "holds"), [(0.2, True), (-0.2, False), (0.0, None)])
def test_mixed_verdict_three_outcomes(by: float, holds: bool | None) -> None:
    base = 0.3 + 0.1 * torch.rand(80, generator=torch.Generator().manual_seed(0))
    v = mixed.mixed_verdict(shifted(base, by), base, paper="mixed attention is best")
    assert v.holds is holds and "mixed attention is best" in str(v)
    assert "before training" in v.finding


def test_coordinate_gates_and_profiles() -> None:
    maps = {"l.tap_h": torch.rand(2, 4, 5, 1), "l.tap_w": torch.rand(2, 4, 1, 6)}
    a_h, a_w, gate = mixed.coordinate_gates(maps, "l")
    assert gate.shape == (2, 4, 5, 6)
    torch.testing.assert_close(gate, maps["l.tap_h"] * maps["l.tap_w"])
    images = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    fig = mixed.profiles(images, a_h, a_w, titles=["a", "b"])
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1 and widths_ok(fig)
    assert all(len(ax.get_images()) <= 1 for ax in fig.axes)  # the map beside, not over
    plt.close(fig)


def test_scale_curves_start_at_zero() -> None:
    r = FitResult(
        "danet",
        "d",
        "cpu",
        {},
        history=[{"epoch": 1, "test_acc": 0.3, "layer3.0.alpha": 0.1, "layer3.0.beta": -0.2}],
    )
    fig = mixed.scale_curves(r)
    (line,) = fig.axes[0].get_lines()[:1]
    assert list(line.get_ydata()) == [0.0, 0.1] and widths_ok(fig)
    plt.close(fig)


def test_influence_plot_draws_within_the_width() -> None:
    fig = mixed.influence_plot({"1": torch.rand(4, 4), "2": torch.rand(4, 4)}, (1, 1))
    assert widths_ok(fig)
    plt.close(fig)
