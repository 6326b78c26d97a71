"""The glimpse's control for *where* and *scale*: its localisation network re-drawn.

The glimpse network's window (:func:`attncv.model.glimpse_resnet18`, the attention transform of
Jaderberg et al. 2015, Sec. 3.1) comes from a :class:`~attncv.attention.stn.WindowLocator`: a
heat map whose softmax over positions places the window's centre, and a linear read-out of the
pooled features for its side. Both read-outs start at zero weights, so the window at its start is
centred and of one side whatever the canvas holds: a control that cannot move at all.

:func:`redrawn_locators` is the control that differs from the trained window only in training:
copies of the trained transformer whose whole localisation network is re-drawn by its layers' own
initialisation (each draw seeded; the read-outs too, so the heat map is not flat), its batch-norm
statistics re-measured on training canvases, and then matched to the trained network on the given
canvases, as :func:`~attncv.train.controls.matched_query_key` matches random query/key maps:

- the heat map's logits are rescaled so that their spread over positions (the mean over canvases
  of each canvas's sd) equals the trained heat map's: the softmax is as sharp, so a window
  that lands nearer the object is not merely a more decided one;
- the side's raw output is rescaled and shifted to the trained one's mean and sd over canvases:
  the windows are as large and vary as much.

What is left to differ is whether the heat map and the side follow the object: what training
taught them.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from ..attention.stn import SpatialTransformer, WindowLocator
from ..data import CifarData
from .controls import CALIBRATION_IMAGES, calibrated

DRAWS = 10  # the book's least number of draws for a control made of random draws


def window_transformer(model: nn.Module) -> SpatialTransformer:
    """The spatial transformer with the attention transform (a window) in ``model``: the
    glimpse network's first module, or ``model`` itself. A ``ValueError`` if there is none."""
    for m in model.modules():
        if isinstance(m, SpatialTransformer) and isinstance(m.localization, WindowLocator):
            return m
    raise ValueError(
        f"redrawn_locators: {type(model).__name__} has no spatial transformer with a window "
        "(the attention transform); build it with glimpse_resnet18."
    )


@torch.no_grad()
def locator_scales(stn: SpatialTransformer, canvases: Tensor) -> tuple[float, float, float]:
    """On normalised ``canvases`` (N, 3, S, S): the heat map's logit spread (the mean over
    canvases of the sd over positions), and the mean and sd over canvases of the side's raw
    output; ``stn`` in eval mode for the pass."""
    seen: dict[str, Tensor] = {}
    hooks = [
        stn.localization.heat.register_forward_hook(lambda m, i, o: seen.update(heat=o)),
        stn.localization.side.register_forward_hook(lambda m, i, o: seen.update(side=o)),
    ]
    was_training = stn.training
    try:
        stn.eval()
        stn.transform(canvases)
    finally:
        stn.train(was_training)
        for h in hooks:
            h.remove()
    heat = seen["heat"].flatten(1).double()  # (N, positions)
    side = seen["side"][:, 0].double()  # (N,)
    return heat.std(1).mean().item(), side.mean().item(), side.std().item()


def _match(stn: SpatialTransformer, canvases: Tensor, target: tuple[float, float, float]) -> None:
    """Rescale ``stn``'s heat read-out and rescale and shift its side read-out so that
    :func:`locator_scales` on ``canvases`` gives ``target``."""
    heat_sd, side_mean, side_sd = locator_scales(stn, canvases)
    loc = stn.localization
    with torch.no_grad():
        loc.heat.weight.mul_(target[0] / heat_sd if heat_sd > 0 else 0.0)
        k = target[2] / side_sd if side_sd > 0 else 0.0  # raw' = (raw - mean) k + target mean
        loc.side.weight.mul_(k)
        loc.side.bias.copy_((loc.side.bias - side_mean) * k + target[1])


def redrawn_locators(
    model: nn.Module,
    data: CifarData,
    canvases: Tensor,
    *,
    draws: int = DRAWS,
    seed: int = 0,
    calibrate: int = CALIBRATION_IMAGES,
) -> list[SpatialTransformer]:
    """``draws`` copies of ``model``'s window transformer (:func:`window_transformer`) with the
    localisation network re-drawn (draw ``i`` seeded ``seed + i``; the global random state is
    left as it was), its batch-norm statistics re-measured on the first ``calibrate`` training
    canvases of ``data`` (:func:`~attncv.train.controls.calibrated`), and its read-outs matched to
    the trained one's scales on the normalised ``canvases`` (the module's docstring).

    Returns:
        the transformers alone (canvas in, glimpse out; the window through the ``affine``
        tap), in eval mode: the window needs no classifier.
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"redrawn_locators: draws must be an integer >= 2, got {draws!r}.")
    trained = window_transformer(model)
    target = locator_scales(trained, canvases)
    out = []
    with torch.random.fork_rng():  # the CPU and every CUDA generator, restored after
        for i in range(draws):
            twin = copy.deepcopy(trained)
            torch.manual_seed(seed + i)
            for layer in twin.localization.modules():
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
            calibrated(twin, data, calibrate)
            _match(twin, canvases, target)
            out.append(twin.eval())
    return out
