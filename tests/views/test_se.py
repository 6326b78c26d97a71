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
    return {"layer1.0": early, "layer4.1": late}, labels


def test_class_share_is_the_explained_variance() -> None:
    g, labels = _gates(0.10, 0)
    u = sev.class_share(g["layer4.1"], labels, 4)
    assert u.shape == (200,)
    x = g["layer4.1"].double()
    means = torch.stack([x[labels == k].mean(0) for k in range(4)])  # (K, C)
    between = ((means - x.mean(0)) ** 2).mean(0)  # equal class sizes
    eta2 = (between / x.var(0, unbiased=False)).mean()
    assert u.mean().item() == pytest.approx(eta2.item(), rel=1e-5)
    assert 0.8 < u.mean() < 1 and 0 < sev.class_share(g["layer1.0"], labels, 4).mean() < 0.9
    noise = torch.randn(200, 16, generator=torch.Generator().manual_seed(3))
    assert sev.class_share(noise, labels, 4).mean() < 0.06  # no class effect: about 3/199
    assert sev.class_share(torch.ones(200, 16), labels, 4).abs().max() == 0  # constant gates
    profile = sev.class_profile(g, labels, 4)
    assert profile["layer4.1"] > profile["layer1.0"]
    with pytest.raises(ValueError, match="labels"):
        sev.class_share(noise, labels[:10], 4)


def test_se_verdict_reads_all_three_outcomes() -> None:
    redrawn = [_gates(0.05, 10 + d)[0] for d in range(4)]  # re-drawn: late like early
    _, labels = _gates(0.05, 1)
    for late, expected in {0.20: True, 0.05: None, 0.01: False}.items():
        trained, _ = _gates(late, 2)
        v = sev.se_verdict(trained, redrawn, labels, num_classes=4)
        assert v.holds is expected, (late, str(v))
        late_vs_early, e = v.evidence
        assert late_vs_early.control_label == ew.at_block("class share", "layer1.0")
        assert late_vs_early.holds is expected  # the late block against the early one
        assert e.control_label == ew.drawn(ew.REDRAWN_GATES, 4)
        assert "4 draws" in e.band_how and "200 test images" in e.band_how
        assert 0 < e.band < 1 and "Hu et al. 2018" in v.paper
        assert {True: "paper's pattern, and the trained", False: "opposite", None: "cannot tell"}[
            expected
        ] in v.finding
        assert v.finding.startswith("On this run the ")
        assert all(len(line) <= 90 for line in str(v).splitlines())
    with pytest.raises(ValueError, match="two re-drawn"):
        sev.se_verdict(trained, redrawn[:1], labels, num_classes=4)
    with pytest.raises(ValueError, match="layer2.0"):
        sev.se_verdict(trained, redrawn, labels, num_classes=4, early="layer2.0")
