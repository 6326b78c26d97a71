"""The channel chapters' analysis helpers: zoom, per-class means, class spread, and the figures."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.attention import capture
from attncv.attention.eca import ECA
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import channel as cv
from attncv.views import probe as vp

matplotlib.use("Agg")


def test_zoom_is_a_centre_crop_resized() -> None:
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    assert torch.equal(cv.zoom(images, 1.0), images)
    big = cv.zoom(images, 2.0)
    assert big.shape == images.shape and big.dtype == torch.uint8
    centre = images[..., 8:24, 8:24].float()  # the middle 16x16, enlarged twice
    expected = torch.nn.functional.interpolate(
        centre, scale_factor=2, mode="bilinear", antialias=True
    )
    assert (big.float() - expected).abs().max() <= 0.5 + 1e-4
    with pytest.raises(ValueError, match="zoom factor"):
        cv.zoom(images, -1)


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


def test_class_means_average_each_class(data) -> None:
    torch.manual_seed(0)
    model = resnet18(data.num_classes, attention="se", width=16).eval()
    means = vp.class_means(model, data)
    assert list(means) == [f"layer{s}.{b}" for s in range(1, 5) for b in range(2)]
    assert means["layer3.1"].shape == (3, 64)
    x, y = data.split("test")
    with capture(model) as maps, torch.no_grad():
        model(data.normalize(x[y == 2]))
    torch.testing.assert_close(
        means["layer3.1"][2], maps["layer3.1.attention.tap"].mean(0).flatten()
    )
    spread = vp.class_spread(means)
    assert all(v >= 0 for v in spread.values())
    assert vp.class_spread({"same": torch.ones(3, 8)}) == {"same": 0.0}
    cv.excitations(means, data.classes, ["layer1.0", "layer4.1"], dataset="synthetic")
    cv.spread_plot({"SE": spread})


def test_branch_weights_and_kernels(data) -> None:
    torch.manual_seed(0)
    sk = resnet18(data.num_classes, attention="sk", width=16)
    weights = cv.branch_weights(sk, data, (1.0, 2.0))
    assert set(weights) == {1.0, 2.0}
    assert weights[2.0]["layer2.0"].shape == (32,)
    assert ((weights[1.0]["layer1.0"] > 0) & (weights[1.0]["layer1.0"] < 1)).all()
    cv.branch_plot(weights, "layer2.0")
    assert len(cv.zoom_grid(data.split("test")[0][:2]).axes) == 6
    fig = cv.kernels(resnet18(data.num_classes, attention="eca", width=16))
    assert len(fig.axes) == 4


def test_neighbour_ablation(data) -> None:
    torch.manual_seed(0)
    model = resnet18(data.num_classes, attention="eca", width=16).eval()
    ecas = [m for m in model.modules() if isinstance(m, ECA)]
    y = torch.randn(2, 32)
    torch.testing.assert_close(
        cv._eca_logits(y, ecas[2].kernel), ecas[2].conv(y[:, None]).squeeze(1)
    )
    out = cv.neighbour_ablation(model, data)
    assert set(out) == {"acc", "ablated", "drop", "correct", "kept"}
    assert out["correct"].shape == (len(data.test_labels),)
    assert out["drop"] == pytest.approx(out["acc"] - out["ablated"])
    with torch.no_grad():  # no weight on the neighbours: holding them fixed changes nothing
        for m in ecas:
            centre = m.kernel_size // 2
            m.conv.weight[..., :centre] = 0
            m.conv.weight[..., centre + 1 :] = 0
    out = cv.neighbour_ablation(model, data)
    assert out["drop"] == 0 and torch.equal(out["correct"], out["kept"])
    with pytest.raises(ValueError, match="ECA"):
        cv.neighbour_ablation(resnet18(data.num_classes, attention="se", width=16), data)


def _noise(sd: float = 0.02):
    from attncv.train.noise import Noise

    return Noise((0.5 - sd, 0.5, 0.5 + sd), (0, 1, 2))  # sample sd exactly ``sd``


def _gates(late_class_effect: float, seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Gates of 200 images of 4 classes at two blocks: the early block's class effect 0.05, the
    late block's ``late_class_effect``, plus per-image noise."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(200) % 4
    pattern = torch.randn(4, 16, generator=gen)  # (K, C): each class's preference
    early = 0.5 + 0.05 * pattern[labels] + 0.02 * torch.randn(200, 16, generator=gen)
    late = 0.5 + late_class_effect * pattern[labels] + 0.02 * torch.randn(200, 16, generator=gen)
    return {"layer2.0": early, "layer4.0": late}, labels


def test_spread_ratio_reads_the_class_effect() -> None:
    g, labels = _gates(0.10, 0)
    r = cv.spread_ratio(g, labels, early="layer2.0", late="layer4.0", num_classes=4)
    assert 1.6 < r < 2.4  # the late class effect is twice the early one
    same = {"layer2.0": g["layer2.0"], "layer4.0": g["layer2.0"]}
    assert cv.spread_ratio(same, labels, early="layer2.0", late="layer4.0", num_classes=4) == 1


def test_se_verdict_reads_all_three_outcomes() -> None:
    control, labels = _gates(0.05, 1)  # before training: ratio about 1
    for late, expected in {0.20: True, 0.05: None, 0.01: False}.items():
        trained, _ = _gates(late, 2)
        v = cv.se_verdict(trained, control, labels, num_classes=4, resamples=200)
        assert v.holds is expected, (late, str(v))
        late_vs_early, e = v.evidence
        assert "class spread at layer2.0" in late_vs_early.control_label
        assert late_vs_early.holds is expected  # the late block against the early one
        assert "before training" in e.control_label and "bootstrap over 200 test images" in (
            e.band_how
        )
        assert 0 < e.band < 1 and "Hu et al. 2018" in v.paper
        assert {True: "paper's pattern, and training", False: "opposite", None: "cannot tell"}[
            expected
        ] in v.finding
        assert v.finding.startswith("On this run the ")
        assert all(len(line) <= 90 for line in str(v).splitlines())
    v = cv.se_verdict(control, control, labels, num_classes=4, resamples=200)
    assert v.holds is None and v.evidence[1].band == 0  # the same gates: no difference at all


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
        v = cv.eca_verdict(ablation)
        assert v.holds is expected and "Wang et al. 2020" in v.paper
        assert "paired bootstrap over 400 test images" in v.evidence[0].band_how
        assert all(len(line) <= 90 for line in str(v).splitlines())
    assert v.evidence[0].band > 0
    noise = _noise(0.02)
    for eca, expected in {0.55: True, 0.51: None, 0.45: False}.items():
        v = cv.var2_verdict(eca, 0.50, noise)
        assert v.holds is expected and "77.43%" in v.paper and "SE-Var2" in v.run
        assert all(len(line) <= 90 for line in str(v).splitlines())


def test_variants_table(data) -> None:
    from attncv.train import FitResult

    result = FitResult("x", "synthetic", "cpu", {}, history=[{"test_acc": 0.5}])
    table = cv.variants_table(
        [
            ("baseline", "none", {}, result),
            ("SE-Var2", "eca", {"kernel_size": 1, "shared": False}, result),
        ],
        dataset="synthetic",
    )
    assert table.rows[0][1] == "0"
    assert table.rows[1][1] == f"{2 * (64 + 128 + 256 + 512):,}"  # C per block, two per stage
    assert "synthetic" in table.caption


def test_zoom_out_shrinks_onto_a_black_canvas() -> None:
    images = torch.full((2, 3, 32, 32), 200, dtype=torch.uint8)
    small = cv.zoom(images, 0.5)
    assert small.shape == images.shape and small.dtype == torch.uint8
    assert (small[..., 8:24, 8:24] == 200).all()  # the image, 16x16, in the middle
    assert small[..., :8, :].eq(0).all() and small[..., :, 24:].eq(0).all()
    with pytest.raises(ValueError, match="zoom factor"):
        cv.zoom(images, 0)


def test_scale_probe_and_sk_verdict() -> None:
    from attncv.train import get_profile

    data, longer = cv.scale_probe(get_profile("smoke", "cpu"))
    assert longer == {} and "rescaled at random" in data.description
    x = data.train_images[:4]
    out = data.transform(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert torch.equal(data.test_images, cv.scale_probe(get_profile("smoke", "cpu"))[0].test_images)

    def weights(shift: float) -> dict[float, dict[str, torch.Tensor]]:
        up = torch.linspace(-0.01, 0.01, 16) + shift  # (C,), spread +-0.01 around the shift
        return {
            1.0: {b: torch.full((16,), 0.5) for b in ("layer1.0", "layer2.0", "layer4.0")},
            2.0: {
                "layer1.0": 0.5 + up,
                "layer2.0": 0.5 + up,
                "layer4.0": torch.full((16,), 0.5),
            },
        }

    control = weights(0.0)  # before training: no shift on average
    for shift, expected in {0.02: True, 0.001: None, -0.02: False}.items():
        v = cv.sk_verdict(weights(shift), control)
        assert v.holds is expected and "Li et al. 2019" in v.paper
        assert f"{shift:+.4f} in layer1 and layer2 (mean over 32 channels" in v.run
        assert "+0.0000 before training" in v.run and "+0.0000 in layer4" in v.run
        (e,) = v.evidence
        assert "bootstrap over 32 channels" in e.band_how and 0 < e.band < 0.01
        assert all(len(line) <= 90 for line in str(v).splitlines())
    torch.testing.assert_close(cv.scale_shift(weights(0.02), 1.0, 2.0, ["layer4"]), torch.zeros(16))
