"""views.se: per-class means, class spread, the SE figures and the SE verdict."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.attention import capture
from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import evidence_words as ew
from attncv.views import probe as vp
from attncv.views import se as sev

matplotlib.use("Agg")


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
    sev.excitations(means, data.classes, ["layer1.0", "layer4.1"], dataset="synthetic")
    sev.spread_plot({"SE": spread})


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
    r = sev.spread_ratio(g, labels, early="layer2.0", late="layer4.0", num_classes=4)
    assert 1.6 < r < 2.4  # the late class effect is twice the early one
    same = {"layer2.0": g["layer2.0"], "layer4.0": g["layer2.0"]}
    assert sev.spread_ratio(same, labels, early="layer2.0", late="layer4.0", num_classes=4) == 1


def test_se_verdict_reads_all_three_outcomes() -> None:
    control, labels = _gates(0.05, 1)  # before training: ratio about 1
    for late, expected in {0.20: True, 0.05: None, 0.01: False}.items():
        trained, _ = _gates(late, 2)
        v = sev.se_verdict(trained, control, labels, num_classes=4, resamples=200)
        assert v.holds is expected, (late, str(v))
        late_vs_early, e = v.evidence
        assert late_vs_early.control_label == ew.at_block("class spread", "layer2.0")
        assert late_vs_early.holds is expected  # the late block against the early one
        assert e.control_label == ew.UNTRAINED
        assert e.band_how == late_vs_early.band_how == ew.band_how(200, "test images")
        assert 0 < e.band < 1 and "Hu et al. 2018" in v.paper
        assert {True: "paper's pattern, and training", False: "opposite", None: "cannot tell"}[
            expected
        ] in v.finding
        assert v.finding.startswith("On this run the ")
        assert all(len(line) <= 90 for line in str(v).splitlines())
    v = sev.se_verdict(control, control, labels, num_classes=4, resamples=200)
    assert v.holds is None and v.evidence[1].band == 0  # the same gates: no difference at all
