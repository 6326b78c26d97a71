"""Figure text that never collides: a caption under a figure legend in the saved PNG, map-grid
titles broken to their panel's width, and sharp (2x) PNGs only inside an IPython kernel."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from attncv.views import style  # noqa: E402
from attncv.views.grids import fit_title, map_grid, pooled  # noqa: E402
from attncv.views.plots import caption  # noqa: E402


def _rows(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.nonzero((np.abs(image[..., :3].astype(int) - colour).sum(-1) < 30).any(1))[0]


def test_a_caption_sits_under_an_outside_legend_in_a_tight_save() -> None:
    """The inline backend saves with bbox_inches="tight": the legend's red lines must end above
    the caption's first dark-grey pixel (SE's excitation figure drew its legend over it)."""
    fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    for i in range(8):
        ax.plot([0, 1], [i, i], color="#ff0000", label=f"class {i}")
    ax.axis("off")  # only the legend (all red) and the caption (grey) draw below
    fig.legend(
        *ax.get_legend_handles_labels(), loc="outside lower center", ncol=4, labelcolor="red"
    )
    caption(fig, "Data: a caption long enough to wrap onto a second line of the figure " * 2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    image = np.asarray(Image.open(buf).convert("RGB"))
    red, grey = _rows(image, (255, 0, 0)), _rows(image, (77, 77, 77))
    legend_red = red[red > image.shape[0] // 2]  # the legend, below the axes' lines
    assert legend_red.size and grey.size
    assert legend_red.max() < grey.min(), "the caption overlaps the legend"
    plt.close(fig)


def test_long_titles_are_broken_to_the_panel_width() -> None:
    assert fit_title("automobile", 0.7, 11) == "automo-\nbile"
    assert fit_title("pickup truck", 0.7, 11) == "pickup\ntruck"
    assert fit_title("cat", 0.7, 11) == "cat"
    images = torch.zeros(6, 3, 8, 8, dtype=torch.uint8)
    fig = map_grid(images, {"m": torch.rand(6, 2, 2)}, titles=["automobile"] * 6)
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert all(max(len(line) for line in t.split("\n")) < len("automobile") for t in titles)
    plt.close(fig)


def test_sharp_figures_only_in_a_kernel() -> None:
    assert style.sharp() is False  # no IPython shell here: the scripts' PNGs are unchanged


def test_a_dense_map_is_pooled_for_display_keeping_its_mean() -> None:
    m = torch.rand(128, 128)
    p = pooled(m)
    assert p.shape == (32, 32) and torch.isclose(p.mean(), m.mean())
    assert torch.isclose(p[0, 0], m[:4, :4].mean())
    assert pooled(torch.rand(8, 8)).shape == (8, 8)  # a small map stays as it is
