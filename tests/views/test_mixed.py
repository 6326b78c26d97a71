"""views.mixed: the mixed chapters' measurements, figures and verdicts on hand-made inputs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.attention.ccnet import CCNet
from attncv.train import FitResult
from attncv.views import mixed


def result(name: str, acc: float) -> FitResult:
    return FitResult(name, "d", "cpu", {}, history=[{"epoch": 1, "test_acc": acc}])


# --- shared figure ---------------------------------------------------------------------------


def test_map_grid_shares_one_scale_and_one_colour_bar() -> None:
    images = torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8)
    rows = {"stage 1": torch.rand(3, 8, 8), "stage 2": torch.rand(3, 4, 4)}
    fig = mixed.map_grid(images, rows, titles=["a", "b", "c"], vmin=0, vmax=1, note="Data: x.")
    overlays = [ax.get_images()[1] for ax in fig.axes if len(ax.get_images()) == 2]
    assert len(overlays) == 6 and {im.get_clim() for im in overlays} == {(0, 1)}
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    plt.close(fig)


# --- CBAM ------------------------------------------------------------------------------------


def test_centre_mask_is_the_middle_half_of_each_side() -> None:
    m = mixed.centre_mask(8, 8)
    assert m.sum() == 16 and m[2:6, 2:6].all()
    assert mixed.centre_mask(4, 4).sum() == 4 and mixed.centre_mask(1, 1).all()


def test_centre_border_sign_follows_where_the_gate_is_high() -> None:
    high_centre = torch.full((5, 1, 8, 8), 0.4)
    high_centre[:, :, 2:6, 2:6] = 0.6
    out = mixed.centre_border({"a": high_centre, "b": 1 - high_centre, "c": torch.ones(2, 1, 1)})
    assert out["a"] == pytest.approx(0.2) and out["b"] == pytest.approx(-0.2)
    assert out["c"] != out["c"]  # a 1x1 map has no border: NaN


@pytest.mark.parametrize(("value", "holds"), [(0.05, True), (-0.05, False), (0.01, None)])
def test_cbam_verdict_three_outcomes(value: float, holds: bool | None) -> None:
    v = mixed.cbam_verdict({"layer1.1": value, "layer4.1": value, "tiny": float("nan")})
    assert v.holds is holds and f"{value:+.3f}" in v.run and "tiny" not in v.run


@pytest.mark.parametrize(("last", "holds"), [(0.1, True), (0.005, False), (0.025, None)])
def test_specificity_verdict_three_outcomes(last: float, holds: bool | None) -> None:
    assert mixed.specificity_verdict({"early": 0.02, "late": last}).holds is holds


@pytest.mark.parametrize(("acc", "holds"), [(0.58, True), (0.50, False), (0.55, None)])
def test_difference_verdict_three_outcomes(acc: float, holds: bool | None) -> None:
    others = {"spatial first": result("s", 0.54), "parallel": result("p", 0.53)}
    v = mixed.difference_verdict("Table 3", ("channel first", result("c", acc)), others)
    assert v.holds is holds and "54.0%" in v.run


def test_cbam_ablation_verdicts_cover_every_claim_with_the_ablation_labels() -> None:
    runs = {label: result(label, 0.5) for label in mixed.CBAM_ABLATION}
    runs["CBAM"] = result("CBAM", 0.6)
    verdicts = mixed.cbam_ablation_verdicts(runs, "CBAM")
    assert len(verdicts) == len(mixed.CBAM_CLAIMS) and all(v.holds for v in verdicts)
    import attncv.attention.cbam as cbam

    for kwargs in mixed.CBAM_ABLATION.values():
        cbam.CBAM(32, **kwargs)  # every variant builds


def test_class_gates_and_ablation_bars_draw() -> None:
    fig = mixed.class_gates({"a": torch.rand(3, 8), "b": torch.rand(3, 16)}, ["x", "y", "z"])
    assert {im.get_clim() for ax in fig.axes for im in ax.get_images()} == {(0, 1)}
    plt.close(fig)
    fig = mixed.ablation_bars({"baseline": result("b", 0.5), "CBAM": result("c", 0.55)})
    assert fig.axes[0].get_xlim()[0] == 0
    plt.close(fig)


# --- DANet -----------------------------------------------------------------------------------


def test_danet_scales_reads_every_block() -> None:
    import attncv

    model = attncv.resnet18(10, attention="danet", width=16)
    scales = mixed.danet_scales(model)
    assert set(scales) == {
        f"layer{s}.{b}.{k}" for s in (3, 4) for b in (0, 1) for k in ("alpha", "beta")
    }
    assert all(v == 0 for v in scales.values())


def test_query_dependence_is_zero_for_shared_maps_and_one_for_disjoint_ones() -> None:
    shared = torch.softmax(torch.randn(2, 1, 16), -1).expand(2, 16, 16)
    assert mixed.query_dependence(shared) == pytest.approx(0.0, abs=1e-9)
    one_hot = torch.eye(16).expand(3, 16, 16)  # every query attends only to itself
    assert mixed.query_dependence(one_hot) == pytest.approx(1.0)
    maps = mixed.query_maps(one_hot, {"corner": (0, 0), "centre": (2, 1)}, 4, 4)
    assert maps["centre"].shape == (3, 4, 4) and maps["centre"][0, 2, 1] == 1


@pytest.mark.parametrize(("tv", "holds"), [(0.5, True), (0.05, False), (0.2, None)])
def test_danet_verdict_three_outcomes(tv: float, holds: bool | None) -> None:
    assert mixed.danet_verdict({"layer3.0": tv, "layer3.1": tv}).holds is holds


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
    m = mixed.uniform(CCNet(16))
    x = torch.randn(1, 16, 6, 7)
    at = (2, 3)
    one = mixed.influence(mixed.passes(m, 1), x, at) > 0
    assert torch.equal(one, mixed.cross_mask(6, 7, at))
    assert (mixed.influence(mixed.passes(m, 2), x, at) > 0).all()
    assert mixed.off_cross_share(mixed.passes(m, 1), x, [at]) == pytest.approx(0.0, abs=1e-12)
    assert 0 < mixed.off_cross_share(mixed.passes(m, 2), x, [at, (0, 0)]) < 1


def test_module_input_is_what_the_module_receives() -> None:
    import attncv

    model = attncv.resnet18(10, attention="ccnet", width=16).train()
    x = mixed.module_input(model, model.layer2[1].after, torch.randn(2, 3, 32, 32))
    assert x.shape == (2, 32, 16, 16) and model.training


def test_cross_grid_puts_the_weights_on_the_row_and_column() -> None:
    w = torch.arange(8.0)[None]  # (1, H + W) with H = W = 4
    grid = mixed.cross_grid(w, (1, 2))
    assert grid[0, 3, 2] == 3 and grid[0, 1, 0] == 4 and grid[0, 0, 0] == 0


@pytest.mark.parametrize(("share", "holds"), [(0.3, True), (0.01, False), (0.06, None)])
def test_ccnet_verdict_three_outcomes(share: float, holds: bool | None) -> None:
    assert mixed.ccnet_verdict(share, 0.2).holds is holds


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


def test_variance_parts_do_not_favour_channels_like_a_spread_of_channel_means() -> None:
    """The old test (spread of channel means against spread of the channel-averaged map)
    calls a mask whose maps differ per channel "a channel gate"; the decomposition does not."""
    torch.manual_seed(0)
    per_channel_maps = torch.rand(2, 16, 8, 8)  # each channel its own spatial map
    parts = mixed.variance_parts(per_channel_maps)
    assert parts["interaction"] > 0.8


@pytest.mark.parametrize(("pos", "holds"), [(0.5, True), (0.02, False), (0.2, None)])
def test_mixed_verdict_three_outcomes(pos: float, holds: bool | None) -> None:
    parts = {"b": {"channel": 1 - pos, "position": pos / 2, "interaction": pos / 2}}
    v = mixed.mixed_verdict(parts, paper="mixed attention is best")
    assert v.holds is holds and "mixed attention is best" in str(v)


def test_coordinate_gates_and_profiles() -> None:
    maps = {"l.tap_h": torch.rand(2, 4, 5, 1), "l.tap_w": torch.rand(2, 4, 1, 6)}
    a_h, a_w, gate = mixed.coordinate_gates(maps, "l")
    assert gate.shape == (2, 4, 5, 6)
    torch.testing.assert_close(gate, maps["l.tap_h"] * maps["l.tap_w"])
    images = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    fig = mixed.profiles(images, a_h, a_w, titles=["a", "b"])
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
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
    assert list(line.get_ydata()) == [0.0, 0.1]
    plt.close(fig)


def test_influence_plot_and_channel_affinity_draw() -> None:
    fig = mixed.influence_plot({"1": torch.rand(4, 4), "2": torch.rand(4, 4)}, (1, 1))
    plt.close(fig)
    fig = mixed.channel_affinity({"a": torch.rand(8, 8), "b": torch.rand(8, 8)})
    assert len({im.get_clim() for ax in fig.axes for im in ax.get_images()}) == 1
    plt.close(fig)
