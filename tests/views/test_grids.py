"""views.grids: the maps beside the photos, one scale per row or one for all."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch

from attncv.views import grids
from tests.views.support import widths_ok


def test_map_grid_draws_maps_beside_the_photos_on_one_scale() -> None:
    images = torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8)
    rows = {"stage 1": torch.rand(3, 8, 8), "stage 2": torch.rand(3, 4, 4)}
    fig = grids.map_grid(images, rows, titles=["a", "b", "c"], vmin=0, vmax=1, note="Data: x.")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert all(len(ax.get_images()) == 1 for ax in panels)  # nothing blended over a photo
    maps = [ax.get_images()[0] for ax in panels[3:]]
    assert len(maps) == 6 and {im.get_clim() for im in maps} == {(0, 1)}
    assert {im.get_alpha() for im in maps} == {None}
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1 and widths_ok(fig)
    plt.close(fig)


def test_map_grid_gives_a_row_its_own_scale_and_colour_bar() -> None:
    images = torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8)
    rows = {"pass 1": torch.rand(2, 4, 4), "change": torch.randn(2, 4, 4)}
    scales = {"change": (-2.0, 2.0, "pass 2 - pass 1", grids.DIVERGING)}
    fig = grids.map_grid(images, rows, scales=scales, marks={"pass 1": (3.0, 5.0)})
    clims = {im.get_clim() for ax in fig.axes for im in ax.get_images()[:1] if ax.images}
    assert (-2.0, 2.0) in clims and (0.0, 1.0) in clims
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    plt.close(fig)
