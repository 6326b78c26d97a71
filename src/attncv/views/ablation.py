"""Test-time ablation: what a trained attention block is worth to the network, without training.

The residual-scaled blocks add their attended values to the input through a learned scale:
self-attention and CCNet ``x + gamma * attended``, DANet ``x + alpha * position + beta *
channel``, the non-local block ``x + BN(W_z y)`` (its BN's scale and shift set the size). Two
controls, each on a copy of the trained network (the caller's is never touched), in eval mode,
with no gradients, on the same test images:

- **the block switched off** (:func:`switched_off`): the part's scale at 0 (gamma, alpha or beta,
  each of DANet's separately; the non-local block's output BN at scale 0 and shift 0, so
  ``BN(W_z y) = 0``): the block is the identity, as before training;
- **a uniform map** (:func:`uniform_map`): the trained scale kept, the part's attention map
  replaced by a uniform one, so every query weighs its keys evenly and gets the mean of the
  values: the *where* removed, the context kept. The map is replaced where the block routes it
  through its tap (:class:`~attncv.attention.tap.AttentionMap`): a forward hook returns the
  uniform map, and a listened tap makes :func:`~attncv.attention.positions.attend` take the
  reference path that uses it. CCNet's map is uniform over the H + W - 1 positions of each
  pixel's row and column (the pixel counted once).

:func:`ablation_evidence` compares the trained network with either control, paired over the
same test images: the change of the per-image log-loss (the paper's direction: the trained
network's lower) and of the accuracy (higher), each an :class:`~.verdicts.Evidence` with a 95%
paired bootstrap band over the images, ready for a chapter's :class:`~.verdicts.Verdict`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..attention.ccnet import CCNet
from ..attention.danet import DANet
from ..attention.non_local import NonLocal
from ..attention.self_attention import SelfAttention
from .evidence_words import SWITCHED_OFF, UNIFORM_MAP
from .verdicts import Evidence

CONTROLS = ("off", "uniform")  # the block switched off, a uniform map


@dataclass(frozen=True)
class Part:
    """One switchable part of a residual-scaled attention block.

    ``block``: the module's name in the network (``"layer3.0.attention"``); ``scale``: the
    parameter that sets its contribution (``"gamma"``, ``"alpha"``, ``"beta"``, or ``"w_z"`` for
    the non-local block's output BN); ``tap``: the attribute its map passes through; ``kind``:
    what the map is over (``"position"``, ``"channel"``, ``"criss-cross"``)."""

    block: str
    scale: str
    tap: str
    kind: str

    @property
    def name(self) -> str:
        """The part in words: ``"layer3.0.attention, position attention (alpha)"``."""
        return f"{self.block}, {self.kind} attention ({self.scale})"


# the parts of each block class: (scale, tap, kind)
_PARTS: dict[type[nn.Module], tuple[tuple[str, str, str], ...]] = {
    SelfAttention: (("gamma", "tap", "position"),),
    CCNet: (("gamma", "tap", "criss-cross"),),
    DANet: (("alpha", "position_tap", "position"), ("beta", "channel_tap", "channel")),
    NonLocal: (("w_z", "tap", "position"),),
}


def parts(model: nn.Module) -> list[Part]:
    """Every switchable part of every residual-scaled attention block of ``model``, in order."""
    found = []
    for name, module in model.named_modules():
        for cls, specs in _PARTS.items():
            if isinstance(module, cls):
                found += [Part(name, scale, tap, kind) for scale, tap, kind in specs]
    return found


def _part(model: nn.Module, block: str, scale: str | None) -> Part:
    """The part of ``block`` named ``scale`` (or its only part); a clear error otherwise."""
    mine = [p for p in parts(model) if p.block == block]
    if not mine:
        names = sorted({p.block for p in parts(model)})
        raise ValueError(f"no residual-scaled attention block {block!r}; the network has {names}.")
    if scale is None:
        if len(mine) > 1:
            raise ValueError(
                f"{block} has {len(mine)} parts ({', '.join(p.scale for p in mine)}): name one."
            )
        return mine[0]
    for p in mine:
        if p.scale == scale:
            return p
    raise ValueError(f"{block} has no part {scale!r}; it has {[p.scale for p in mine]}.")


def _eval_copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).eval()


@torch.no_grad()
def switched_off(model: nn.Module, block: str, scale: str | None = None) -> nn.Module:
    """A copy of ``model`` in eval mode with ``block``'s part ``scale`` switched off: its scale
    at 0 (the non-local block's output BN at scale 0 and shift 0), so it adds nothing."""
    part = _part(model, block, scale)
    ablated = _eval_copy(model)
    module = ablated.get_submodule(part.block)
    if part.scale == "w_z":  # z = BN(W_z y) + x: in eval mode BN(.) = 0 at scale 0, shift 0
        module.bn.weight.zero_()
        module.bn.bias.zero_()
    else:
        getattr(module, part.scale).zero_()
    return ablated


def _uniform(kind: str) -> Callable[[nn.Module, tuple[Tensor, ...], Tensor], Tensor]:
    """A forward hook for a tap: the map replaced by a uniform one of the same shape."""

    def hook(_module: nn.Module, _inputs: tuple[Tensor, ...], weights: Tensor) -> Tensor:
        if kind != "criss-cross":  # (N, L, S) or (N, C, C): each row over its S keys
            return torch.full_like(weights, 1.0 / weights.shape[-1])
        h, w = weights.shape[1], weights.shape[2]  # (N, H, W, H + W): column, then row
        col = 1 - torch.eye(h, dtype=weights.dtype, device=weights.device)[:, None, :]
        keys = torch.cat([col.expand(h, w, h), weights.new_ones(h, w, w)], dim=-1)
        return (keys / (h + w - 1)).expand_as(weights)  # the pixel itself counted once

    return hook


def uniform_map(model: nn.Module, block: str, scale: str | None = None) -> nn.Module:
    """A copy of ``model`` in eval mode whose ``block`` part ``scale`` keeps its trained scale
    but attends through a uniform map: every query gets the mean of the values it attends to."""
    part = _part(model, block, scale)
    ablated = _eval_copy(model)
    tap = getattr(ablated.get_submodule(part.block), part.tap)
    tap.register_forward_hook(_uniform(part.kind))
    return ablated


@torch.no_grad()
def per_image(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    prepare: Callable[[Tensor], Tensor] | None = None,
    batch_size: int = 500,
) -> tuple[Tensor, Tensor]:
    """The log-loss and correctness (1.0 or 0.0) of ``model`` on each image, float64 (N,) each,
    on a copy in eval mode (``model`` keeps its mode). ``prepare``: what turns a batch of
    ``images`` into the network's input (for CIFAR, ``data.normalize``)."""
    net = _eval_copy(model)
    device = next(net.parameters()).device
    losses, correct = [], []
    for batch, target in zip(images.split(batch_size), labels.split(batch_size), strict=True):
        x = (prepare(batch) if prepare is not None else batch).to(device)
        logits = net(x).double()
        target = target.to(device)
        losses.append(F.cross_entropy(logits, target, reduction="none").cpu())
        correct.append((logits.argmax(1) == target).double().cpu())
    return torch.cat(losses), torch.cat(correct)


def ablation_evidence(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    block: str,
    scale: str | None = None,
    control: str = "off",
    prepare: Callable[[Tensor], Tensor] | None = None,
    batch_size: int = 500,
) -> tuple[Evidence, Evidence]:
    """The trained network against ``control`` of ``block``'s part ``scale``: ``"off"`` (the
    block switched off, :func:`switched_off`) or ``"uniform"`` (a uniform map,
    :func:`uniform_map`), on the same test images.

    Returns two :class:`~.verdicts.Evidence`, each with a 95% paired bootstrap band over the
    images: the test log-loss (expected below the control's: the block lowers it) and the test
    accuracy (expected above). For CIFAR: ``images, labels = data.split("test")`` and
    ``prepare=data.normalize``."""
    if control not in CONTROLS:
        raise ValueError(f"control must be one of {CONTROLS}, got {control!r}.")
    part = _part(model, block, scale)
    ablate = switched_off if control == "off" else uniform_map
    label = SWITCHED_OFF if control == "off" else UNIFORM_MAP
    loss, correct = per_image(model, images, labels, prepare=prepare, batch_size=batch_size)
    ablated = ablate(model, part.block, part.scale)
    loss0, correct0 = per_image(ablated, images, labels, prepare=prepare, batch_size=batch_size)
    return (
        Evidence.paired(
            f"test log-loss, {part.name}",
            loss,
            loss0,
            label,
            expected="below",
            fmt=".3f",
        ),
        Evidence.paired(
            f"test accuracy, {part.name}",
            correct,
            correct0,
            label,
            expected="above",
            fmt=".1%",
        ),
    )
