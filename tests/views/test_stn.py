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
from attncv.train.noise import Noise  # noqa: E402
from attncv.views import stn  # noqa: E402
from attncv.views.evidence_words import (  # noqa: E402
    FIXED_WINDOW,
    PLAIN_NETWORK,
    band_how,
    standard_error_how,
    window_at_start,
)


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


@pytest.mark.parametrize(
    ("noise", "holds", "words"),
    [
        (0.02, True, "found the objects"),  # the window sits on the object
        (None, None, "not find"),  # a centred window: the control itself
        (-1.0, False, "farther"),  # the window sits at the far corner
    ],
)
def test_where_verdict(noise, holds, words) -> None:
    p = _placements()
    g = torch.Generator().manual_seed(1)
    if noise is None:
        x = y = torch.zeros(len(p))
    elif noise < 0:
        x = y = torch.full((len(p),), 0.9)
    else:
        x = p[:, 0] + noise * torch.randn(len(p), generator=g)
        y = p[:, 1] + noise * torch.randn(len(p), generator=g)
    v = stn.where_verdict(_theta(x, y, torch.full_like(x, 0.5)), p, canvas=64)
    assert v.holds is holds and words in v.finding
    assert v.evidence[0].control_label == FIXED_WINDOW
    assert v.evidence[0].band_how == band_how(len(p), "test canvases")
    assert "Jaderberg" in v.paper


def test_centre_distances_in_pixels() -> None:
    p = torch.tensor([[0.5, 0.0, 0.3]])
    d = stn.centre_distances(stn.centred(1, 0.5), p, 64)
    assert d.item() == pytest.approx(16.0)  # half a half-canvas


@pytest.mark.parametrize(
    ("follow", "holds", "words"),
    [
        (True, True, "follows the objects' size"),  # side = 1.2 x object: tighter than 0.5
        (False, False, "Scale is not recovered"),  # one size, a little above its start
    ],
)
def test_scale_verdict(follow, holds, words) -> None:
    p = _placements()
    g = torch.Generator().manual_seed(2)
    side = 1.2 * p[:, 2] if follow else 0.52 + 0.01 * torch.randn(len(p), generator=g)
    v = stn.scale_verdict(_theta(p[:, 0], p[:, 1], side), p, canvas=64, start=0.5)
    assert v.holds is holds and words in v.finding
    assert len(v.evidence) == 2 and v.evidence[1].control_label == window_at_start(32)
    assert v.evidence[0].band_how == v.evidence[1].band_how == band_how(len(p), "test canvases")


def test_scale_verdict_too_small_to_tell() -> None:
    p = _placements()
    side = 0.5 + 0.0 * p[:, 2]  # never left its start: zoom as the control, spread 0 < objects'
    v = stn.scale_verdict(_theta(p[:, 0], p[:, 1], side), p, canvas=64, start=0.5)
    assert v.evidence[1].holds is None and v.evidence[0].holds is False
    assert "moved +0.00 px" in v.finding


@pytest.mark.parametrize(
    ("glimpse", "fixed", "holds", "start"),
    [
        (0.65, 0.40, True, "Finding the object paid"),
        (0.47, 0.46, None, "Not beyond the noise"),
        (0.15, 0.45, False, "The learned window did worse"),
    ],
)
def test_accuracy_verdict(glimpse, fixed, holds, start) -> None:
    noise = Noise((0.49, 0.46, 0.52), (0, 1, 2))  # sd 3.0 points: 95% band 18.3 points
    v = stn.accuracy_verdict(glimpse, fixed, 0.40, noise=noise, n_test=1000)
    assert v.holds is holds and v.finding.startswith(start)
    assert v.evidence[0].band_how == noise.how()  # the seed noise's one wording
    assert [e.control_label for e in v.evidence] == [PLAIN_NETWORK, FIXED_WINDOW]
    assert v.evidence[0].band == pytest.approx(noise.band())


def test_canvas_band_takes_the_larger() -> None:
    noise = Noise((0.5, 0.5001), (0, 1))
    band, how = stn.canvas_band(noise, (0.5, 0.5), 100)
    assert band == pytest.approx((2 * 0.25 / 100) ** 0.5)
    assert how == standard_error_how(100, "test canvases", difference=True)
    seeds = Noise((0.4, 0.5), (0, 1))
    band, how = stn.canvas_band(seeds, (0.5, 0.5), 1000)
    assert band == pytest.approx(seeds.band()) and how == seeds.how()


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


def test_canvas_seed_band_is_the_plain_networks_own_noise() -> None:
    accuracies, seeds = (0.40, 0.42, 0.43), (0, 1, 2)
    noise = Noise(accuracies, seeds)
    band, how = stn.canvas_seed_band(accuracies, seeds)  # one run against the seeds' mean
    assert band == pytest.approx(4.303 * noise.sd * (1 + 1 / 3) ** 0.5)
    assert how.startswith("95% interval of a difference of one run and a mean of 3 runs")
    assert "(Student's t, 2 df)" in how and "baseline" not in how
    assert how.endswith(f"sd 1.5 points from {PLAIN_NETWORK}, 3 seeds (0, 1, 2) on canvases")
    pair, words = stn.canvas_seed_band(accuracies, seeds, runs_b=1)  # two single runs
    assert pair == pytest.approx(noise.band()) and "two single runs" in words
    with pytest.raises(ValueError, match="at least two seeds"):
        stn.canvas_seed_band((0.4,), (0,))
