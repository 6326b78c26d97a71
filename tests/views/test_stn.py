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
from attncv.views.evidence_words import drawn, draws_band_how  # noqa: E402
from attncv.views.verdicts import MIXED  # noqa: E402


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


def _placements(n: int = 300, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(n, 2, generator=g) * 1.2 - 0.6  # normalised
    side = torch.rand(n, 1, generator=g) * 0.125 + 0.25  # 16-24 px of 64
    return torch.cat([centre, side], 1)


def _controls(p: torch.Tensor, draws: int = 10, seed: int = 5) -> list[torch.Tensor]:
    """Re-drawn windows: centres and sides that follow nothing, around a side of 0.5."""
    g = torch.Generator().manual_seed(seed)
    n = len(p)
    return [
        _theta(
            0.3 * torch.randn(n, generator=g),
            0.3 * torch.randn(n, generator=g),
            0.5 + 0.02 * torch.randn(n, generator=g),
        )
        for _ in range(draws)
    ]


def _near(p: torch.Tensor, noise: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = p[:, 0] + noise * torch.randn(len(p), generator=g)
    y = p[:, 1] + noise * torch.randn(len(p), generator=g)
    return _theta(x, y, 0.5 + 0.5 * (p[:, 2] - 0.3))


def test_where_verdict_over_two_seeds() -> None:
    p = _placements()
    controls = [_controls(p, seed=5), _controls(p, seed=6)]
    found = stn.where_verdict(
        [_near(p, 0.02, 1), _near(p, 0.02, 2)], controls, p, canvas=64, start=0.5
    )
    assert found.holds is True and "training placed the window nearer" in found.finding
    assert len(found.evidence) == 2 and all(e.expected == "below" for e in found.evidence)
    label = drawn(stn.REDRAWN_LOCATOR, 10)
    assert found.evidence[0].control_label == label
    assert found.evidence[0].band_how == draws_band_how(len(p), "test canvases", 10)
    assert "the window at its start, centred, lies" in found.run
    far = _theta(torch.full((len(p),), 0.9), torch.full((len(p),), 0.9), torch.full((len(p),), 0.5))
    mixed = stn.where_verdict([_near(p, 0.02, 1), far], controls, p, canvas=64, start=0.5)
    assert mixed.holds is MIXED and "disagree" in mixed.finding
    same = stn.where_verdict([controls[0][0], controls[1][0]], controls, p, canvas=64, start=0.5)
    assert same.holds is None  # one draw of the control itself
    with pytest.raises(ValueError, match="one control per seed"):
        stn.where_verdict([far], controls, p, canvas=64, start=0.5)


def test_centre_distances_in_pixels() -> None:
    p = torch.tensor([[0.5, 0.0, 0.3]])
    d = stn.centre_distances(stn.centred(1, 0.5), p, 64)
    assert d.item() == pytest.approx(16.0)  # half a half-canvas


def test_slopes_and_their_band() -> None:
    obj = torch.linspace(10, 40, 50, dtype=torch.float64)
    assert stn.slopes(2 * obj + 3, obj).item() == pytest.approx(2.0)
    assert stn.slopes(torch.full_like(obj, 30.0), obj).item() == pytest.approx(0.0)
    both = stn.slopes(torch.stack([obj, -obj]), obj)
    assert both.tolist() == pytest.approx([1.0, -1.0])
    g = torch.Generator().manual_seed(0)
    noisy = obj + 5 * torch.randn(50, generator=g, dtype=torch.float64)
    controls = 30 + 5 * torch.randn(10, 50, generator=g, dtype=torch.float64)
    band = stn.slope_band(noisy, controls, obj)
    assert 0 < band < 1  # a slope of ~1 against ~0 resolves on 50 canvases
    assert stn.slope_band(noisy, controls, obj, resamples=500) != band  # it is a bootstrap


def test_scale_verdict_over_two_seeds() -> None:
    p = _placements()
    controls = [_controls(p, seed=5), _controls(p, seed=6)]
    follows = [_theta(p[:, 0], p[:, 1], 1.2 * p[:, 2]) for _ in range(2)]
    v = stn.scale_verdict(follows, controls, p, canvas=64)
    assert v.holds is True and v.evidence[0].trained == pytest.approx(1.2)
    assert v.evidence[1].control_label == drawn(stn.REDRAWN_LOCATOR, 10)
    still = [controls[0][1], controls[1][1]]  # sides that follow nothing, as the control's
    v = stn.scale_verdict(still, controls, p, canvas=64)
    assert v.holds is None and "does not follow" in v.finding
    shrinks = [_theta(p[:, 0], p[:, 1], 0.8 - p[:, 2]) for _ in range(2)]
    assert stn.scale_verdict(shrinks, controls, p, canvas=64).holds is False


def test_window_checks_move_on_the_positive_control_only() -> None:
    data, p = on_canvas(synthetic(num_classes=2, train_per_class=2, test_per_class=40), size=64)
    table = stn.window_checks(data.test_images, p, canvas=64, side=0.5)
    (oracle, start, bright) = table.rows
    assert float(oracle[1]) == 0.0 and float(oracle[2]) == pytest.approx(1.0, abs=0.01)
    assert float(start[1]) > 5 and float(start[2]) == 0.0
    assert float(bright[1]) < float(start[1])  # on a black canvas contrast finds the object


def test_canvas_curves() -> None:
    from attncv.train import FitResult

    rows = [{"epoch": e, "test_acc": 0.1 * e, "train_acc": 0.1 * e, "lr": 0.1} for e in (1, 2)]
    r = FitResult(name="plain", dataset="d", device="cpu", config={}, history=rows)
    fig = stn.canvas_curves([r], note="swings")
    assert fig.get_figwidth() <= 6.0 and len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_transforms_and_figures_from_a_glimpse_model() -> None:
    data, placements = on_canvas(
        synthetic(num_classes=2, train_per_class=4, test_per_class=3), size=64
    )
    model = glimpse_resnet18(2, width=4, canvas=64, scale_range=(0.2, 0.7))
    theta = stn.transforms(model, data)
    assert theta.shape == (6, 2, 3) and torch.allclose(theta[:, 0, 0], torch.tensor(0.5))
    first = stn.transforms(model, data, batch_size=2, images=3)  # a cheap look during training
    assert first.shape == (3, 2, 3) and torch.allclose(first, theta[:3], atol=1e-6)
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
    assert len(fig.axes) == 9 and seen.shape == (3, 3, 32, 32) and fig.get_figwidth() <= 6.0
    plt.close(fig)
    theta[:, 0, 2] = placements[:, 0]  # a perfect x, to see the plot's r
    fig = stn.recovery_plot(theta, placements)
    assert fig.axes[0].get_title() == "x: r = 1.00"
    plt.close(fig)
