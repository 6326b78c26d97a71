"""views.coordinate_attention: the gates a_h a_w and their profiles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch

from attncv.views import coordinate_attention as cav
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
