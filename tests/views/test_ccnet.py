"""views.ccnet: the cost of full against criss-cross attention, how far context travels, the
CCNet verdict."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.attention.ccnet import CCNet
from attncv.views import ccnet as ccnetv
from attncv.views import evidence_words as ew
from attncv.views.verdicts import MIXED, Evidence
from tests.views.support import shifted, widths_ok


def test_attention_costs_agree_with_the_formulas() -> None:
    (row,) = ccnetv.attention_costs((8,), channels=16)
    c, hw, s = 16, 64, 8
    proj = hw * (2 * c * c // 8 + c * c)
    assert row["full_macs"] == proj + hw * hw * (c // 8 + c)
    assert row["rcca_macs"] == 2 * (proj + hw * (s + s) * (c // 8 + c))
    assert row["entries_x"] == hw * hw / (2 * hw * 2 * s) and row["bytes_x"] > 0
    assert "8x8" in str(ccnetv.cost_table([row]))


def test_influence_reaches_the_cross_in_one_pass_and_everything_in_two() -> None:
    torch.manual_seed(0)
    m = ccnetv.uniform(CCNet(16), gamma=1.0)
    x = torch.randn(2, 16, 6, 7)
    at = (2, 3)
    one = ccnetv.influence(ccnetv.passes(m, 1), x[:1], at) > 0
    assert torch.equal(one, ccnetv.cross_mask(6, 7, at))
    assert (ccnetv.influence(ccnetv.passes(m, 2), x[:1], at) > 0).all()
    first = ccnetv.off_cross_shares(ccnetv.passes(m, 1), x, [at])
    assert first.shape == (2,) and first.abs().max() < 1e-12
    second = ccnetv.off_cross_shares(ccnetv.passes(m, 2), x, [at, (0, 0)])
    assert ((0 < second) & (second < 1)).all()


def test_influences_of_a_batch_are_each_images_own() -> None:
    torch.manual_seed(0)
    m = CCNet(8)
    with torch.no_grad():
        m.gamma.fill_(0.5)
    x = torch.randn(3, 8, 5, 6)
    batch = ccnetv.influences(ccnetv.passes(m, 2), x, (1, 2))
    assert batch.shape == (3, 5, 6)
    for i in range(3):
        torch.testing.assert_close(batch[i], ccnetv.influence(ccnetv.passes(m, 2), x[i:], (1, 2)))


def test_uniform_keeps_the_trained_gamma_unless_told() -> None:
    m = CCNet(8)
    with torch.no_grad():
        m.gamma.fill_(0.07)
    assert ccnetv.uniform(m).gamma.item() == pytest.approx(0.07)
    assert ccnetv.uniform(m, gamma=1.0).gamma.item() == 1.0 and m.gamma.item() != 1.0
    assert not ccnetv.uniform(m).query.weight.any()


def test_cross_grid_puts_the_weights_on_the_row_and_column() -> None:
    w = torch.arange(8.0)[None]  # (1, H + W) with H = W = 4
    grid = ccnetv.cross_grid(w, (1, 2))
    assert grid[0, 3, 2] == 3 and grid[0, 1, 0] == 4 and grid[0, 0, 0].isnan()


@pytest.mark.parametrize(("by", "holds"), [(0.05, True), (-0.05, False), (0.0, None)])
def test_ccnet_verdict_three_outcomes(by: float, holds: bool | None) -> None:
    base = 0.1 + 0.05 * torch.rand(40, generator=torch.Generator().manual_seed(0))
    v = ccnetv.ccnet_verdict(shifted(base, by), base, gamma=0.075, block="layer4.1")
    assert v.holds is holds and v.evidence[0].control_label == ew.uniform_weights(0.075)
    assert "layer4.1" in v.evidence[0].statistic and "at layer4.1" in v.run


@pytest.mark.parametrize(("by", "holds"), [(0.05, True), (-0.05, False), (0.0, None)])
def test_ccnet_verdict_against_draws_bands_over_images_and_draws(by, holds) -> None:
    gen = torch.Generator().manual_seed(1)
    draws = 0.1 + 0.02 * torch.rand(10, 40, generator=gen, dtype=torch.float64)
    v = ccnetv.ccnet_verdict(shifted(draws[0], by), draws, gamma=0.075, block="layer4.1")
    e = v.evidence[0]
    assert v.holds is holds and e.control_label == ew.drawn(ew.MATCHED_QUERY_KEY, 10)
    assert e.band_how.endswith("40 test images and 10 draws")
    assert ew.MATCHED_QUERY_KEY in v.finding and "gamma +0.075" in v.run


def test_largest_gamma_picks_the_block_by_the_size_of_gamma() -> None:
    import attncv

    model = attncv.resnet18(10, attention="ccnet", width=16)
    with torch.no_grad():
        for name, g in [("layer2.1", 0.004), ("layer3.1", -0.3), ("layer4.1", 0.25)]:
            model.get_submodule(f"{name}.after").gamma.fill_(g)
    found = ccnetv.gammas(model)
    assert len(found) == 6 and found["layer2.1.after"] == pytest.approx(0.004)
    assert ccnetv.largest_gamma(model) == "layer3.1.after"
    with pytest.raises(ValueError, match="no CCNet"):
        ccnetv.largest_gamma(torch.nn.Linear(2, 2))


def test_spread_points_fall_inside_the_map_at_every_size() -> None:
    assert ccnetv.spread_points(16, 16) == [(5, 10), (8, 8), (2, 3), (12, 13)]
    for h, w in [(4, 4), (8, 8), (5, 7), (1, 1)]:
        assert all(0 <= y < h and 0 <= x < w for y, x in ccnetv.spread_points(h, w))
    assert len(set(ccnetv.spread_points(4, 4))) == 4
    with pytest.raises(ValueError, match="at least 1x1"):
        ccnetv.spread_points(0, 4)


@pytest.mark.parametrize(("by", "holds"), [(-0.2, True), (0.2, False), (0.0, None)])
def test_use_verdict_reads_the_log_loss_against_each_ablation(by, holds) -> None:
    loss = 1.0 + torch.rand(200, generator=torch.Generator().manual_seed(0))
    off = Evidence.paired("log-loss", shifted(loss, by), loss, ew.SWITCHED_OFF, expected="below")
    flat = Evidence.paired("log-loss", shifted(loss, by), loss, ew.UNIFORM_MAP, expected="below")
    v = ccnetv.use_verdict([off, flat], block="layer4.1.after")
    assert v.holds is holds and "layer4.1.after" in v.finding and ew.UNIFORM_MAP in v.finding
    if by:
        other = Evidence.paired(
            "log-loss", shifted(loss, -by), loss, ew.UNIFORM_MAP, expected="below"
        )
        assert ccnetv.use_verdict([off, other], block="b").holds is MIXED
    with pytest.raises(ValueError, match="no ablation"):
        ccnetv.use_verdict([], block="b")


def test_ccnet_verdict_reads_shares_of_a_few_hundredths_of_a_percent() -> None:
    trained = torch.full((16,), 0.0003)  # the committed run's order of magnitude
    v = ccnetv.ccnet_verdict(trained, torch.full((16,), 0.0010), gamma=0.004)
    row = v.evidence[0].row()
    assert row[1] == "0.030%" and row[2].startswith("0.100%") and row[3] == "-0.070 points"
    assert "0.030% of a pixel's context" in v.finding and "against 0.100%" in v.finding


def test_influence_plot_draws_within_the_width() -> None:
    fig = ccnetv.influence_plot({"1": torch.rand(4, 4), "2": torch.rand(4, 4)}, (1, 1))
    assert widths_ok(fig)
    plt.close(fig)
