"""views.eca: ECA's kernels, the neighbour ablation, the variants table and the ECA verdicts."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.attention.eca import ECA
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import eca as ecav
from attncv.views import evidence_words as ew

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


def test_kernels(data) -> None:
    fig = ecav.kernels(resnet18(data.num_classes, attention="eca", width=16))
    assert len(fig.axes) == 4


def test_neighbour_ablation(data) -> None:
    torch.manual_seed(0)
    model = resnet18(data.num_classes, attention="eca", width=16).eval()
    ecas = [m for m in model.modules() if isinstance(m, ECA)]
    y = torch.randn(2, 32)
    torch.testing.assert_close(
        ecav._eca_logits(y, ecas[2].kernel), ecas[2].conv(y[:, None]).squeeze(1)
    )
    out = ecav.neighbour_ablation(model, data)
    assert set(out) == {"acc", "ablated", "drop", "correct", "kept"}
    assert out["correct"].shape == (len(data.test_labels),)
    assert out["drop"] == pytest.approx(out["acc"] - out["ablated"])
    with torch.no_grad():  # no weight on the neighbours: holding them fixed changes nothing
        for m in ecas:
            centre = m.kernel_size // 2
            m.conv.weight[..., :centre] = 0
            m.conv.weight[..., centre + 1 :] = 0
    out = ecav.neighbour_ablation(model, data)
    assert out["drop"] == 0 and torch.equal(out["correct"], out["kept"])
    with pytest.raises(ValueError, match="ECA"):
        ecav.neighbour_ablation(resnet18(data.num_classes, attention="se", width=16), data)


def _noise(sd: float = 0.02):
    from attncv.train.noise import Noise

    return Noise((0.5 - sd, 0.5, 0.5 + sd), (0, 1, 2))  # sample sd exactly ``sd``


def test_eca_verdicts_read_all_three_outcomes() -> None:
    n = 400
    correct = (torch.arange(n) % 2 == 0).float()  # accuracy 50%
    for flips, expected in {60: True, 0: None, -60: False}.items():
        kept = correct.clone()
        if flips > 0:  # the ablation loses `flips` correct images
            kept[torch.nonzero(correct == 1)[:flips, 0]] = 0
        elif flips < 0:
            kept[torch.nonzero(correct == 0)[:-flips, 0]] = 1
        ablation = {
            "acc": correct.mean().item(),
            "ablated": kept.mean().item(),
            "correct": correct,
            "kept": kept,
        }
        v = ecav.eca_verdict(ablation)
        assert v.holds is expected and "Wang et al. 2020" in v.paper
        assert v.evidence[0].band_how == ew.band_how(400, "test images")
        assert v.evidence[0].control_label == ew.NEIGHBOURS_AT_MEAN
        assert all(len(line) <= 90 for line in str(v).splitlines())
    assert v.evidence[0].band > 0
    noise = _noise(0.02)  # the 95% band of two single runs: 4.303 sqrt(2) 2 = 12.2 points
    for eca, expected in {0.65: True, 0.55: None, 0.35: False}.items():
        v = ecav.var2_verdict(eca, 0.50, noise)
        assert v.holds is expected and "77.43%" in v.paper and "SE-Var2" in v.run
        assert all(len(line) <= 90 for line in str(v).splitlines())


def test_variants_table(data) -> None:
    from attncv.train import FitResult

    result = FitResult("x", "synthetic", "cpu", {}, history=[{"test_acc": 0.5}])
    table = ecav.variants_table(
        [
            ("baseline", "none", {}, result),
            ("SE-Var2", "eca", {"kernel_size": 1, "shared": False}, result),
        ],
        dataset="synthetic",
    )
    assert table.rows[0][1] == "0"
    assert table.rows[1][1] == f"{2 * (64 + 128 + 256 + 512):,}"  # C per block, two per stage
    assert "synthetic" in table.caption
