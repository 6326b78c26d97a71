"""views.coordinate_attention: the gates a_h a_w, their profiles, the per-channel "where"."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from attncv.views import coordinate_attention as cav
from attncv.views import objects
from tests.views.support import widths_ok


def test_coordinate_gates_and_profiles() -> None:
    maps = {"l.tap_h": torch.rand(2, 4, 5, 1), "l.tap_w": torch.rand(2, 4, 1, 6)}
    a_h, a_w, gate = cav.coordinate_gates(maps, "l")
    assert gate.shape == (2, 4, 5, 6)
    torch.testing.assert_close(gate, maps["l.tap_h"] * maps["l.tap_w"])
    images = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    fig = cav.profiles(images, a_h, a_w, titles=["a", "b"])
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1 and widths_ok(fig)
    assert all(len(ax.get_images()) <= 1 for ax in fig.axes)  # the map beside, not over
    plt.close(fig)


def boxes(n: int = 60, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random non-overlapping 16-pixel boxes on a 64-pixel canvas: a target and three
    distractors, one in each quadrant."""
    g = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[0, 0], [32, 0], [0, 32], [32, 32]])
    out = []
    for _ in range(n):
        order = torch.randperm(4, generator=g)
        off = torch.randint(0, 16, (4, 2), generator=g)
        xy = corners[order] + off
        out.append(torch.cat([xy, xy + 16], 1))
    b = torch.stack(out).double()  # (N, 4, 4)
    return b[:, 0], b[:, 1:]


def test_per_channel_ratio_reads_each_channel_before_combining() -> None:
    target, distractors = boxes()
    gate = torch.ones(60, 2, 16, 16)
    gate[:, 1] = 0.5 + 0.5 * objects.box_cover(target, (16, 16)) / 16  # channel 1 on the target
    r = cav.per_channel_ratio(gate, target, distractors)
    assert r.shape == (60, 2)
    torch.testing.assert_close(r[:, 0], torch.ones(60, dtype=torch.float64))
    assert (r[:, 1] > 1.5).all()
    # a channel that favours the target and one that avoids it: their mean map would cancel
    gate[:, 0] = 1.5 - gate[:, 1]
    assert cav.channel_preference(gate, target, distractors).mean() < 1.2
    with pytest.raises(ValueError, match="per_channel_ratio"):
        cav.per_channel_ratio(gate[:, 0], target, distractors)


def test_validate_channel_statistic_passes_both_ways() -> None:
    target, distractors = boxes(80)
    canvases = torch.randint(0, 255, (80, 3, 64, 64), dtype=torch.uint8)
    v = cav.validate_channel_statistic(canvases, target, distractors)
    means = v.means()
    assert v.passes and means["uniform"] == pytest.approx(1.0)
    assert 0.8 < means["rows and columns fixed per channel"] < 1.25
    assert means["hand-set on the target"] > 3
