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
    v = ccnetv.ccnet_verdict(shifted(base, by), base, gamma=0.075)
    assert v.holds is holds and v.evidence[0].control_label == ew.uniform_weights(0.075)


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
