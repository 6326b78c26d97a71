"""The shared maps of a query-based attention (attncv.views.query_maps): residual shares, map
statistics on hand-made maps, the maps of a block, the use table, and the figure."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.attention.non_local import NonLocal
from attncv.attention.self_attention import SelfAttention
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import query_maps as qm

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


def _model(data, attention: str = "self_attention", scale: float = 0.0):
    torch.manual_seed(0)
    model = resnet18(data.num_classes, attention=attention, width=16).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, SelfAttention):
                m.gamma.fill_(scale)
            elif isinstance(m, NonLocal):
                m.bn.weight.fill_(scale)
    return model


# --- residual share ---


def test_residual_share_is_zero_at_initialisation_and_grows_with_gamma(data) -> None:
    images = data.split("test")[0]
    start = qm.residual_share(_model(data), data, images)
    assert list(start) == ["layer2.0", "layer2.1", "layer3.0", "layer3.1"]
    assert all(v == 0.0 for v in start.values())
    small = qm.residual_share(_model(data, scale=0.1), data, images)
    large = qm.residual_share(_model(data, scale=0.2), data, images)
    assert all(0 < small[k] < large[k] for k in small)


def test_residual_share_is_the_branch_norm_over_the_input_norm(data) -> None:
    """One self-attention block on its own: the share by hand."""
    torch.manual_seed(0)
    block = SelfAttention(3, reduction=1).eval()  # on the images themselves (3 channels)
    with torch.no_grad():
        block.gamma.fill_(0.5)
    model = torch.nn.Sequential(block)
    images = data.split("test")[0]
    x = data.normalize(images)
    with torch.no_grad():
        expected = ((block(x) - x).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)).mean()
    share = qm.residual_share(model, data, images)
    assert share == pytest.approx({"0": expected.item()}, rel=1e-5)


def test_residual_share_of_non_local_blocks(data) -> None:
    share = qm.residual_share(_model(data, "non_local", 0.5), data, data.split("test")[0])
    assert len(share) == 4 and all(v > 0 for v in share.values())


# --- map statistics on hand-made maps ---


def _uniform(n: int = 2, side: int = 8) -> torch.Tensor:
    length = side * side
    return torch.full((n, length, length), 1.0 / length)


def _local(n: int = 2, side: int = 8) -> torch.Tensor:
    """Each query puts all its weight on itself: query-specific and strictly local."""
    return torch.eye(side * side).expand(n, -1, -1).clone()


def _far_fixed(n: int = 2, side: int = 8) -> torch.Tensor:
    """Every query looks at the same corner: one map for all, far from most queries."""
    w = torch.zeros(n, side * side, side * side)
    w[:, :, 0] = 1.0
    return w


def test_map_stats_of_a_uniform_map() -> None:
    stats = qm.map_stats(_uniform(), (8, 8))
    assert stats["query_tv"] == pytest.approx(0.0, abs=1e-6)
    assert stats["far_ratio"] == pytest.approx(1.0, rel=1e-5)
    assert stats["far"] == 2.0  # a quarter of the side


def test_map_stats_of_local_and_of_query_independent_maps() -> None:
    local = qm.map_stats(_local(), (8, 8))
    assert local["query_tv"] == pytest.approx(1.0)  # disjoint maps
    assert local["far_ratio"] == 0.0
    fixed = qm.map_stats(_far_fixed(), (8, 8))
    assert fixed["query_tv"] == pytest.approx(0.0, abs=1e-6)
    assert fixed["far_ratio"] > 1.0  # the corner is far from most queries


def test_map_stats_total_variation_by_hand() -> None:
    w = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]])  # two queries on a 1x2 grid
    assert qm.map_stats(w, (1, 2))["query_tv"] == pytest.approx(0.5)


def test_map_stats_per_image_values_and_their_mean() -> None:
    w = torch.cat([_uniform(1), _local(1), _far_fixed(1)])  # three images, three kinds of map
    per = qm.map_stats_per_image(w, (8, 8))
    assert per["query_tv"].shape == (3,) and per["far_ratio"].shape == (3,)
    assert per["query_tv"].tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-6)
    assert per["far_ratio"][0] == pytest.approx(1.0) and per["far_ratio"][1] == 0.0
    mean = qm.map_stats(w, (8, 8))
    assert mean["query_tv"] == pytest.approx(per["query_tv"].mean().item())
    assert mean["far_ratio"] == pytest.approx(per["far_ratio"].mean().item())


def test_map_stats_with_sub_sampled_keys() -> None:
    length, keys = 64, 16  # 8x8 queries over 4x4 keys
    stats = qm.map_stats(torch.full((1, length, keys), 1 / keys), (8, 8), keys=(4, 4))
    assert stats["far_ratio"] == pytest.approx(1.0, rel=1e-5)
    d = qm.grid_distances((8, 8), (4, 4))
    assert d.shape == (64, 16) and d[0, 0] == pytest.approx(2**0.5 * 0.5)


def test_map_stats_rejects_weights_that_are_not_distributions() -> None:
    with pytest.raises(ValueError, match="distributions"):
        qm.map_stats(-_uniform(), (8, 8))
    with pytest.raises(ValueError, match="sum to one"):
        qm.map_stats(2 * _uniform(), (8, 8))


def test_block_maps(data) -> None:
    model = _model(data, scale=0.5)
    maps, grid = qm.block_maps(model, data, "layer2.1", images=3)
    assert maps.shape == (3, 256, 256) and grid == (16, 16)
    with pytest.raises(ValueError, match="no position tap"):
        qm.block_maps(model, data, "layer4.1")


# --- per-image shares and the use table ---


def _shares(*means: float, n: int = 50, spread: float = 0.002) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        f"layer2.{i}": (m + (spread if m else 0.0) * torch.randn(n, generator=g)).clamp_min(0.0)
        for i, m in enumerate(means)  # a block that never moved adds exactly 0 on every image
    }


def test_residual_share_per_image_and_its_mean(data) -> None:
    images = data.split("test")[0]
    model = _model(data, scale=0.2)
    per = qm.residual_share_per_image(model, data, images)
    assert all(v.shape == (len(images),) for v in per.values())
    means = qm.residual_share(model, data, images)
    assert means == pytest.approx({k: v.mean().item() for k, v in per.items()})


def _per_image(tv: float, far: float, n: int = 100, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "query_tv": tv + 0.02 * torch.randn(n, generator=g),
        "far_ratio": far + 0.02 * torch.randn(n, generator=g),
    }


def test_use_table_pairs_scales_with_shares() -> None:
    table = qm.use_table(
        {"gamma layer2.0.after": -0.01, "gamma layer2.1.after": 0.2},
        {"layer2.0": 0.004},
        scale="gamma",
        images=7,
    )
    assert "7 test images" in table.caption
    assert table.rows == [["layer2.0", "-0.010", "0.4%"], ["layer2.1", "0.200", "–"]]
    per = qm.use_table({"gamma layer2.0": 0.1}, _shares(0.05), scale="gamma", images=50)
    assert per.rows[0][2].startswith("5.0% ± 0.")


# --- figures ---


def test_query_maps_figure(data) -> None:
    images = data.split("test")[0][:2]
    weights = torch.softmax(torch.randn(2, 16, 16), -1)
    fig = qm.query_maps(images, weights, [(0, 0), (3, 3)], grid=(4, 4), title="t", source="s")
    assert len(fig.axes) == 7  # per image: the photo and two maps; and the colour bar
    assert not any(ax.images[0].get_alpha() for ax in fig.axes[:6])  # no blending
    assert fig.get_figwidth() <= 6.0
    matplotlib.pyplot.close(fig)


# --- the maps against many draws, twin canvases ---


def test_map_stats_over_draws_stacks_one_row_per_network(data) -> None:
    from attncv.train.controls import matched_query_key

    model = _model(data, scale=0.5)
    draws = matched_query_key(model, data.normalize(data.split("test")[0]), draws=3)
    per = qm.map_stats_over_draws(draws, data, "layer2.1", images=4)
    assert set(per) == {"query_tv", "far_ratio"}
    assert per["query_tv"].shape == per["far_ratio"].shape == (3, 4)
    assert not torch.equal(per["query_tv"][0], per["query_tv"][1])  # the draws differ
    one = qm.map_stats_per_image(*qm.block_maps(draws[2], data, "layer2.1", images=4))
    assert torch.equal(per["query_tv"][2], one["query_tv"])  # row i is draw i
    with pytest.raises(ValueError, match="at least one network"):
        qm.map_stats_over_draws([], data, "layer2.1")


def test_maps_evidence_bands_over_images_and_draws_for_many_draws() -> None:
    from attncv.views import evidence_words as ew

    trained = _per_image(0.40, 1.10, n=30)
    rows = [_per_image(0.31, 0.99, n=30, seed=s) for s in range(1, 11)]  # ten draws
    control = {k: torch.stack([r[k] for r in rows]) for k in trained}  # (10, 30)
    tv, far = qm.maps_evidence(trained, control, where="layer2.1")
    assert tv.control_label == far.control_label == ew.drawn(ew.MATCHED_QUERY_KEY, 10)
    assert tv.band_how == ew.draws_band_how(30, "test images", 10)
    assert tv.control == pytest.approx(control["query_tv"].mean().item())
    assert tv.holds is True and far.holds is True
    # one draw (N,): the paired band and the unscaled control's name, as before
    single = qm.maps_evidence(trained, rows[0], where="layer2.1")[0]
    assert single.control_label == qm.MAP_CONTROL
    assert single.band_how == ew.band_how(30, "test images")
    with pytest.raises(ValueError, match=r"\(N,\) or per draw and image \(D, N\)"):
        qm.maps_evidence(trained, {k: v[None, None] for k, v in rows[0].items()}, where="x")


def test_twin_per_canvas_reads_the_queries_on_the_target() -> None:
    from attncv.data import synthetic
    from attncv.train import get_profile
    from attncv.train.canvas import canvas_network
    from attncv.train.cluttered import twin_task

    small = synthetic(num_classes=3, train_per_class=4, test_per_class=4)
    canvas, *boxes = twin_task(small)
    net = canvas_network("self_attention", canvas, get_profile("smoke", "cpu"))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, SelfAttention):
                m.gamma.fill_(0.5)
    values = qm.twin_per_canvas(net, canvas, boxes, "layer2.1", images=5, batch_size=2)
    assert values.shape == (5,) and bool(((values > 0) & (values < 1)).all())  # shares
    from attncv.views.objects import canvas_taps, tap_at

    maps = tap_at(canvas_taps(net, canvas, "position", images=5), "layer2.1")
    from attncv.views.objects import twin_over_distractor_per_image

    ratio = twin_over_distractor_per_image(maps, *(b[:5] for b in boxes), attention=True)
    assert torch.allclose(values.double(), (ratio / (1 + ratio)).double())  # T/(T+D) = r/(1+r)
    with pytest.raises(ValueError, match="no tap at 'layer9.9'"):
        qm.twin_per_canvas(net, canvas, tuple(boxes), "layer9.9", images=2)
