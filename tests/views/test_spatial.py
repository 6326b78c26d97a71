"""The spatial chapters' measurements and verdicts: residual shares, map statistics on hand-made
maps, the random-projection reference, the verdicts' three outcomes, and the figures."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.attention.non_local import NonLocal
from attncv.attention.self_attention import SelfAttention
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import spatial as sv
from attncv.views.verdicts import OUTCOMES

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
    start = sv.residual_share(_model(data), data, images)
    assert list(start) == ["layer2.0", "layer2.1", "layer3.0", "layer3.1"]
    assert all(v == 0.0 for v in start.values())
    small = sv.residual_share(_model(data, scale=0.1), data, images)
    large = sv.residual_share(_model(data, scale=0.2), data, images)
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
    share = sv.residual_share(model, data, images)
    assert share == pytest.approx({"0": expected.item()}, rel=1e-5)


def test_residual_share_of_non_local_blocks(data) -> None:
    share = sv.residual_share(_model(data, "non_local", 0.5), data, data.split("test")[0])
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
    stats = sv.map_stats(_uniform(), (8, 8))
    assert stats["query_tv"] == pytest.approx(0.0, abs=1e-6)
    assert stats["far_ratio"] == pytest.approx(1.0, rel=1e-5)
    assert stats["far"] == 2.0  # a quarter of the side


def test_map_stats_of_local_and_of_query_independent_maps() -> None:
    local = sv.map_stats(_local(), (8, 8))
    assert local["query_tv"] == pytest.approx(1.0)  # disjoint maps
    assert local["far_ratio"] == 0.0
    fixed = sv.map_stats(_far_fixed(), (8, 8))
    assert fixed["query_tv"] == pytest.approx(0.0, abs=1e-6)
    assert fixed["far_ratio"] > 1.0  # the corner is far from most queries


def test_map_stats_total_variation_by_hand() -> None:
    w = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]])  # two queries on a 1x2 grid
    assert sv.map_stats(w, (1, 2))["query_tv"] == pytest.approx(0.5)


def test_map_stats_per_image_values_and_their_mean() -> None:
    w = torch.cat([_uniform(1), _local(1), _far_fixed(1)])  # three images, three kinds of map
    per = sv.map_stats_per_image(w, (8, 8))
    assert per["query_tv"].shape == (3,) and per["far_ratio"].shape == (3,)
    assert per["query_tv"].tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-6)
    assert per["far_ratio"][0] == pytest.approx(1.0) and per["far_ratio"][1] == 0.0
    mean = sv.map_stats(w, (8, 8))
    assert mean["query_tv"] == pytest.approx(per["query_tv"].mean().item())
    assert mean["far_ratio"] == pytest.approx(per["far_ratio"].mean().item())


def test_map_stats_with_sub_sampled_keys() -> None:
    length, keys = 64, 16  # 8x8 queries over 4x4 keys
    stats = sv.map_stats(torch.full((1, length, keys), 1 / keys), (8, 8), keys=(4, 4))
    assert stats["far_ratio"] == pytest.approx(1.0, rel=1e-5)
    d = sv.grid_distances((8, 8), (4, 4))
    assert d.shape == (64, 16) and d[0, 0] == pytest.approx(2**0.5 * 0.5)


def test_map_stats_rejects_weights_that_are_not_distributions() -> None:
    with pytest.raises(ValueError, match="distributions"):
        sv.map_stats(-_uniform(), (8, 8))
    with pytest.raises(ValueError, match="sum to one"):
        sv.map_stats(2 * _uniform(), (8, 8))


def test_block_maps_and_random_projections(data) -> None:
    model = _model(data, scale=0.5)
    maps, grid = sv.block_maps(model, data, "layer2.1", images=3)
    assert maps.shape == (3, 256, 256) and grid == (16, 16)
    with pytest.raises(ValueError, match="no position tap"):
        sv.block_maps(model, data, "layer4.1")
    twin = sv.random_projections(model, seed=1)
    a, b = model.layer2[1].after, twin.layer2[1].after
    assert not torch.equal(a.query.weight, b.query.weight)
    assert not torch.equal(a.key.weight, b.key.weight)
    assert torch.equal(a.value.weight, b.value.weight) and a.gamma == b.gamma
    assert torch.equal(model.stem[0].weight, twin.stem[0].weight)
    nl = sv.random_projections(_model(data, "non_local", 0.5))
    assert isinstance(nl.layer3[0].after, NonLocal)


# --- verdicts: all three outcomes ---


@pytest.mark.parametrize(("share", "holds"), [(0.08, True), (0.03, None), (0.004, False)])
def test_gamma_and_wz_verdicts(share: float, holds) -> None:
    shares = {"layer2.0": share, "layer2.1": share}
    v = sv.gamma_verdict({"gamma layer2.0": 0.1, "gamma layer2.1": 0.2}, shares)
    assert v.holds is holds and "gamma = 0.100, 0.200" in v.run and "Zhang" in v.paper
    w = sv.wz_verdict({"a": 0.05}, shares)
    assert w.holds is holds and "Wang" in w.paper
    assert str(v).splitlines()[-1].endswith(OUTCOMES[holds])
    assert max(len(line) for line in str(v).splitlines()) <= 90


@pytest.mark.parametrize(
    ("tv", "far", "holds"),
    [
        (0.4, 0.9, True),  # query-specific and long-range
        (0.15, 0.9, None),  # query dependence inside its band
        (0.4, 0.5, None),  # locality inside its band
        (0.05, 0.9, False),  # one map for every query: a global pooling
        (0.4, 0.1, False),  # local attention
    ],
)
def test_maps_verdicts(tv: float, far: float, holds) -> None:
    stats = {"query_tv": tv, "far_ratio": far, "far": 4.0}
    v = sv.sagan_maps_verdict(stats, where="layer2.1", untrained={"query_tv": 0.3, "far_ratio": 1})
    assert v.holds is holds and "0.30" in v.run and "Fig. 5" in v.paper
    assert sv.nonlocal_maps_verdict(stats, where="layer2.1").holds is holds


@pytest.mark.parametrize(
    ("reference", "words"), [(0.2, "was learned"), (0.38, "needs no training"), (0.6, "alike")]
)
def test_maps_verdict_notes_the_random_reference(reference: float, words: str) -> None:
    stats = {"query_tv": 0.4, "far_ratio": 0.9, "far": 4.0}
    v = sv.sagan_maps_verdict(stats, where="b", untrained={"query_tv": reference, "far_ratio": 1})
    assert words in v.note and "Note:" in str(v)
    assert sv.nonlocal_maps_verdict(stats, where="b").note == ""


def test_use_table_pairs_scales_with_shares() -> None:
    table = sv.use_table(
        {"gamma layer2.0.after": -0.01, "gamma layer2.1.after": 0.2},
        {"layer2.0": 0.004},
        scale="gamma",
        images=7,
    )
    assert "7 test images" in table.caption
    assert table.rows == [["layer2.0", "-0.010", "0.4%"], ["layer2.1", "0.200", "–"]]


@pytest.mark.parametrize(
    ("accuracies", "holds"),
    [
        ({"embedded_gaussian": 0.48, "gaussian": 0.485, "dot_product": 0.47}, True),
        ({"embedded_gaussian": 0.48, "gaussian": 0.53, "dot_product": 0.47}, None),
        ({"embedded_gaussian": 0.48, "gaussian": 0.60, "dot_product": 0.47}, False),
    ],
)
def test_modes_verdict(accuracies, holds) -> None:
    v = sv.modes_verdict(accuracies, 1000)  # one standard error of a difference: about 2.2%
    assert v.holds is holds and "Table 2a" in v.paper and "embedded gaussian 48.0%" in v.run


def test_modes_verdict_on_a_tiny_test_set_does_not_divide_by_zero() -> None:
    v = sv.modes_verdict({"a": 1.0, "b": 1.0}, 8)
    assert v.holds is True


# --- figures ---


def test_query_maps_figure(data) -> None:
    images = data.split("test")[0][:2]
    weights = torch.softmax(torch.randn(2, 16, 16), -1)
    fig = sv.query_maps(images, weights, [(0, 0), (3, 3)], grid=(4, 4), title="t", source="s")
    assert len(fig.axes) == 5  # four maps and the colour bar
    matplotlib.pyplot.close(fig)


# --- the non-local chapter's comparison of pairwise functions ---


@pytest.mark.slow
def test_train_modes_and_their_table(data, capsys) -> None:
    from attncv.train import get_profile

    prof = get_profile("smoke", "cpu")
    runs = sv.train_modes(data, prof, ("embedded_gaussian", "dot_product"), progress=False)
    assert list(runs) == ["embedded_gaussian", "dot_product"]
    assert runs["dot_product"][0].layer2[0].after.mode == "dot_product"
    assert runs["dot_product"][1].name == "non_local (dot product)"
    assert any(k.startswith("W_z scale") for k in runs["dot_product"][1].history[0])
    again = sv.train_modes(data, prof, ("embedded_gaussian",), progress=False)  # from the cache
    assert "Loaded the identical run" in capsys.readouterr().out
    assert again["embedded_gaussian"][1].history == runs["embedded_gaussian"][1].history
    table = sv.modes_table(runs, data)
    text = str(table)
    assert "embedded gaussian" in text and "dot product" in text and "nan" not in text
    assert table.rows[1][4:] == ["–", "–"]  # dot-product weights are not distributions
