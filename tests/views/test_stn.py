"""The spatial transformer's views: recovery correlations, the verdict, the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attncv.data import synthetic  # noqa: E402
from attncv.data.distorted import on_canvas  # noqa: E402
from attncv.model import glimpse_resnet18  # noqa: E402
from attncv.views import stn  # noqa: E402


def _theta(x, y, s):
    zero = torch.zeros_like(x)
    return torch.stack([torch.stack([s, zero, x], 1), torch.stack([zero, s, y], 1)], 1)


def test_recovery_of_a_window_that_follows_the_object() -> None:
    g = torch.Generator().manual_seed(0)
    placements = torch.rand(200, 3, generator=g) * torch.tensor([1.6, 1.6, 0.1]) - torch.tensor(
        [0.8, 0.8, -0.15]
    )
    follows = _theta(0.9 * placements[:, 0], placements[:, 1] + 0.05, 2 * placements[:, 2])
    rec = stn.recovery(follows, placements)
    assert rec == pytest.approx({"x": 1.0, "y": 1.0, "scale": 1.0})
    ignores = _theta(
        torch.rand(200, generator=g), torch.rand(200, generator=g), torch.full((200,), 0.33)
    )
    rec = stn.recovery(ignores, placements)
    assert abs(rec["x"]) < 0.25 and abs(rec["y"]) < 0.25 and rec["scale"] != rec["scale"]  # nan
    lines = stn.recovery_lines({"x": 0.871, "y": -0.5, "scale": 0.1}).splitlines()
    assert lines == ["x recovery: r = 0.87", "y recovery: r = -0.50", "scale recovery: r = 0.10"]


@pytest.mark.parametrize(
    ("rx", "ry", "holds"), [(0.9, 0.85, True), (0.9, 0.1, False), (0.6, 0.9, None)]
)
def test_verdict(rx, ry, holds) -> None:
    verdict = stn.stn_verdict({"x": rx, "y": ry, "scale": 0.1}, 0.45, 0.40)
    assert verdict.holds is holds
    assert "+5.0 points" in str(verdict) and "Jaderberg" in str(verdict)


def test_transforms_and_figures_from_a_glimpse_model() -> None:
    data, placements = on_canvas(
        synthetic(num_classes=2, train_per_class=4, test_per_class=3), size=64
    )
    model = glimpse_resnet18(2, width=4, canvas=64, scale_range=(0.2, 0.7))
    theta = stn.transforms(model, data)
    assert theta.shape == (6, 2, 3) and torch.allclose(theta[:, 0, 0], torch.tensor(0.5))
    assert set(stn.recovery(theta, placements)) == {"x", "y", "scale"}
    with torch.no_grad():
        seen = model[0](data.normalize(data.test_images[:3]))
    fig = stn.glimpses(
        data.test_images[:3],
        data.test_images[:3, :, :32, :32],
        data.test_images[:3],
        theta[:3],
        labels=["a", "b", "c"],
        source="synthetic",
    )
    assert len(fig.axes) == 9 and seen.shape == (3, 3, 32, 32)
    plt.close(fig)
    theta[:, 0, 2] = placements[:, 0]  # a perfect x, to see the plot's r
    fig = stn.recovery_plot(theta, placements)
    assert fig.axes[0].get_title() == "x: r = 1.00"
    plt.close(fig)
