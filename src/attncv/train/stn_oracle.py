"""The oracle window: the spatial transformer's glimpse, placed where the object is known to be.

The spatial-transformer chapter compares a learned window (:func:`attncv.model.glimpse_resnet18`)
with a window of the same side fixed at the canvas centre (``fixed_side=``). But the centred
window crops objects that sit off-centre, so "fixed centred window minus plain network" mixes the
resolution gained with the object lost. The oracle separates them: a window of the same side,
centred on each canvas's object (whose placement the canvas task knows), read by the same
bilinear sampler at the same ``view``. Then

- oracle minus fixed centred window = what finding the object is worth, at one resolution;
- oracle minus the plain network (the whole canvas downscaled to ``view``) = what resolution is
  worth, with the object always in view;
- learned minus oracle = how far the learned window falls short of finding the object.

How the window reaches the classifier. The training loop passes images and labels only, and a
training canvas's placement is drawn afresh inside the data's transform, so a model cannot read
it. The least invasive honest design is to cut the window in the data: :func:`oracle_task`
returns a copy of the canvas task whose transform places each training image on its canvas
exactly as :func:`attncv.data.distorted.on_canvas` does (the same generator draws: under the same
``fit`` seed the oracle's run sees the very canvases the other arms see) and then reads the
oracle window from it, and whose test images are the chapter's test canvases (the same
``seed``) read at their oracle windows. The classifier (:func:`oracle_resnet18`) is the ResNet
alone, built as the other arms build theirs (the same weights after the same seed). Two
differences from a window read inside the model, both below what a test set can measure: the
view is rounded to uint8 (at most half a grey level), and outside the canvas the window reads
the dataset's mean colour (a normalised zero, as the transformer's zero padding reads) to within
that rounding.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor, nn

from ..data import CifarData
from ..data.augment import place_on_canvas
from ..data.distorted import check_object_sizes, on_canvas
from ..model import resnet18
from ..model.stn_classifier import read_windows


def oracle_thetas(placements: Tensor, side: float, *, inside: bool = False) -> Tensor:
    """The oracle's transforms theta (N, 2, 3): a square window of ``side`` (a fraction of the
    canvas, as :class:`~attncv.model.FixedWindow`'s) centred on each object, from the
    placements (N, 3) the canvas task returns (centre x, y in normalised canvas coordinates,
    side). ``inside``: shift each window the least that keeps it on the canvas (then an object no
    larger than the window still lies wholly in it, but no longer at its centre)."""
    if not 0 < side <= 1:
        raise ValueError(f"oracle_thetas: side must be in (0, 1], got {side}.")
    if placements.ndim != 2 or placements.shape[1] != 3:
        raise ValueError(
            f"oracle_thetas: placements must be (N, 3): centre x, y and side, got "
            f"{tuple(placements.shape)}."
        )
    centre = placements[:, :2].float()  # (N, 2)
    if inside:
        centre = centre.clamp(side - 1, 1 - side)
    theta = torch.zeros(len(placements), 2, 3, device=placements.device)
    theta[:, 0, 0] = theta[:, 1, 1] = side
    theta[:, :, 2] = centre
    return theta


def oracle_views(
    canvases: Tensor,
    placements: Tensor,
    side: float,
    *,
    view: int = 32,
    pad: Tensor | None = None,
    inside: bool = False,
) -> Tensor:
    """uint8 canvases (N, 3, S, S) -> uint8 (N, 3, view, view): each canvas's oracle window
    (:func:`oracle_thetas`), read by the transformer's sampler (:func:`read_windows`) and
    rounded. ``pad`` (3,), values 0-255: what the window reads outside the canvas (default
    black)."""
    theta = oracle_thetas(placements, side, inside=inside).to(canvases.device)
    x = canvases.float()
    if pad is not None:
        pad = pad.to(x).view(1, -1, 1, 1)
        x = x - pad  # the sampler's zeros become ``pad``
    out = read_windows(x, theta, view)
    if pad is not None:
        out = out + pad
    return out.round().clamp(0, 255).to(torch.uint8)


def oracle_task(
    data: CifarData,
    *,
    side: float,
    size: int = 64,
    object_sizes: tuple[int, int] = (16, 24),
    view: int = 32,
    seed: int = 0,
    inside: bool = False,
) -> tuple[CifarData, Tensor]:
    """The canvas task of :func:`~attncv.data.distorted.on_canvas` (``size``, ``object_sizes``,
    the test canvases placed from ``seed``) seen through the oracle window of ``side``: training
    batches are placed anew on their canvases (the same draws as ``on_canvas``'s) and cut at
    their objects; the test images are the same test canvases cut at theirs. Returns the data
    (uint8 ``view`` x ``view`` images) and the test placements (N, 3), as ``on_canvas``."""
    check_object_sizes(object_sizes, size)
    canvas, placements = on_canvas(data, size=size, object_sizes=object_sizes, seed=seed)
    pad = torch.tensor(data.mean, device=data.device) * 255  # a normalised zero, in grey levels
    cut = dict(side=side, view=view, pad=pad, inside=inside)
    test = torch.cat(
        [
            oracle_views(c, p, **cut)
            for c, p in zip(canvas.test_images.split(1000), placements.split(1000), strict=True)
        ]
    )  # uint8 (N, 3, view, view)

    def transform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        placed, where = place_on_canvas(
            x, size=size, object_sizes=object_sizes, generator=generator
        )
        return oracle_views(placed, where, **cut)

    where = "on the canvas" if inside else "centred on the object"
    text = f"{canvas.description}, read through a {side * size:.0f}-px window {where} at {view} px"
    return replace(canvas, test_images=test, transform=transform, description=text), placements


def oracle_resnet18(num_classes: int = 100, *, width: int = 64) -> nn.Sequential:
    """The oracle arm's classifier: ResNet-18 alone (the window is cut in the data, by
    :func:`oracle_task`), behind an ``nn.Identity`` in the window's place, so its blocks are
    named ``1.`` as the glimpse's and after the same ``set_seed`` its weights equal the other
    arms'."""
    return nn.Sequential(nn.Identity(), resnet18(num_classes, width=width))
