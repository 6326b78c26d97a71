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


def _read_outs(stn: SpatialTransformer, canvases: Tensor) -> tuple[Tensor, Tensor]:
    """One pass of ``stn``'s localisation network (eval mode) on normalised ``canvases``: the
    heat map's logits (N, positions) and the side's raw output (N,), in float64."""
    seen: dict[str, Tensor] = {}
    hooks = [
        stn.localization.heat.register_forward_hook(lambda m, i, o: seen.update(heat=o)),
        stn.localization.side.register_forward_hook(lambda m, i, o: seen.update(side=o)),
    ]
    was_training = stn.training
    try:
        stn.eval()
        with torch.no_grad():
            stn.transform(canvases)
    finally:
        stn.train(was_training)
        for h in hooks:
            h.remove()
    return seen["heat"].flatten(1).double(), seen["side"][:, 0].double()


def _scales(heat: Tensor, side: Tensor) -> tuple[float, float, float]:
    return heat.std(1).mean().item(), side.mean().item(), side.std().item()


def locator_scales(stn: SpatialTransformer, canvases: Tensor) -> tuple[float, float, float]:
    """On normalised ``canvases`` (N, 3, S, S): the heat map's logit spread (the mean over
    canvases of the sd over positions), and the mean and sd over canvases of the side's raw
    output; ``stn`` in eval mode for the pass."""
    return _scales(*_read_outs(stn, canvases))


def _match(
    stn: SpatialTransformer, heat: Tensor, side: Tensor, target: tuple[float, float, float]
) -> tuple[Tensor, Tensor]:
    """Rescale ``stn``'s heat read-out and rescale and shift its side read-out so that its
    scales (:func:`locator_scales`) on the canvases that gave ``heat`` and ``side`` become
    ``target``; returns the matched logits and raw sides those canvases now give."""
    heat_sd, side_mean, side_sd = _scales(heat, side)
    loc = stn.localization
    a = target[0] / heat_sd if heat_sd > 0 else 0.0  # logits' = a logits (+ a constant)
    k = target[2] / side_sd if side_sd > 0 else 0.0  # raw' = (raw - mean) k + target mean
    with torch.no_grad():
        loc.heat.weight.mul_(a)
        loc.side.weight.mul_(k)
        loc.side.bias.copy_((loc.side.bias - side_mean) * k + target[1])
    return heat * a, (side - side_mean) * k + target[1]


def _theta(stn: SpatialTransformer, heat: Tensor, side: Tensor, size: int) -> Tensor:
    """The window (N, 2, 3) that heat logits (N, positions) on a ``size`` x ``size`` map and raw
    sides (N,) give, as :meth:`WindowLocator.forward` and the attention transform compute it:
    the centre the softmax's expected position, the side ``low + (high - low) sigmoid(raw +
    initial)``."""
    weights = heat.softmax(-1)  # (N, size * size)
    coords = (torch.arange(size, dtype=torch.float64, device=heat.device) + 0.5) / size * 2 - 1
    grid_y, grid_x = torch.meshgrid(coords, coords, indexing="ij")
    tx, ty = weights @ grid_x.flatten(), weights @ grid_y.flatten()  # (N,)
    low, high = stn.scale_range
    s = low + (high - low) * torch.sigmoid(side + stn.initial_raw)
    zero = torch.zeros_like(s)
    return torch.stack([torch.stack([s, zero, tx], 1), torch.stack([zero, s, ty], 1)], 1)


def _redrawn(
    model: nn.Module, data: CifarData, canvases: Tensor, draws: int, seed: int, calibrate: int
) -> list[tuple[SpatialTransformer, Tensor]]:
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
            heat, side = _read_outs(twin, canvases)
            heat, side = _match(twin, heat, side, target)
            size = int(round(heat.shape[1] ** 0.5))
            out.append((twin.eval(), _theta(twin, heat, side, size).float()))
    return out


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
    return [stn for stn, _ in _redrawn(model, data, canvases, draws, seed, calibrate)]


def redrawn_windows(
    model: nn.Module,
    data: CifarData,
    canvases: Tensor,
    *,
    draws: int = DRAWS,
    seed: int = 0,
    calibrate: int = CALIBRATION_IMAGES,
) -> list[Tensor]:
    """The windows (N, 2, 3) that :func:`redrawn_locators`' draws choose on ``canvases``, one per
    draw, from the same pass that matched them (no second pass over the canvases)."""
    return [theta for _, theta in _redrawn(model, data, canvases, draws, seed, calibrate)]
