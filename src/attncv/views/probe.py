"""Attention weights of a trained model over a whole dataset split: per block, per class.

:func:`tap_weights` runs images through a model and collects every tap of one kind, keyed by the
block it belongs to; :func:`class_means` averages them per class, :func:`class_spread` says how
class-specific they are, and :func:`spread_resamples` measures that from per-image gates in paired
bootstrap resamples of the images (the noise of SE's and CBAM's late/early ratio). The channel,
spatial and mixed chapters all read their models this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from ..attention import capture
from ..data import CifarData


def block_of(tap: str) -> str:
    """A tap's name without the slot it sits in: ``"layer2.0.attention.tap"`` and
    ``"layer2.0.after.tap"`` -> ``"layer2.0"``; a module with several taps keeps their names
    (``"layer1.1.attention.spatial_tap"`` -> ``"layer1.1.spatial_tap"``)."""
    parts = [p for p in tap.split(".") if p not in ("attention", "after")]
    if parts[-1] == "tap" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def short_blocks(blocks: Sequence[str]) -> list[str]:
    """Block names for a crowded axis: ``"layer2.1"`` -> ``"2.1"``."""
    return [b.removeprefix("layer") for b in blocks]


@torch.no_grad()
def tap_weights(model: nn.Module, data: CifarData, images: Tensor, kind: str) -> dict[str, Tensor]:
    """The weights at every tap of ``kind`` for uint8 ``images``, in batches of 500."""
    was_training = model.training
    model.eval()
    with capture(model, kind) as maps:
        for batch in images.split(500):
            model(data.normalize(batch))
    model.train(was_training)
    return {block_of(name): m for name, m in maps.items()}


def class_means(model: nn.Module, data: CifarData, *, kind: str = "channel") -> dict[str, Tensor]:
    """Mean weights per class on the test split at every tap: ``{block: (K, ...)}`` with the
    tap's shape after the batch dimension, trailing 1s dropped ((K, C) for SE and ECA gates)."""
    images, labels = data.split("test")
    labels = labels.cpu()
    counts = torch.bincount(labels, minlength=data.num_classes).clamp(min=1)  # (K,)
    out = {}
    for block, m in tap_weights(model, data, images, kind).items():
        flat = m.flatten(1)  # (N, D)
        sums = torch.zeros(data.num_classes, flat.shape[1]).index_add_(0, labels, flat)
        shape = [s for s in m.shape[1:]]
        while shape and shape[-1] == 1:
            shape.pop()
        out[block] = (sums / counts[:, None]).view(data.num_classes, *shape)  # (K, ...)
    return out


def class_spread(means: dict[str, Tensor]) -> dict[str, float]:
    """How class-specific each block's gates are: the standard deviation across classes of the
    mean gate, averaged over channels (0 when every class gets the same gates)."""
    return {block: m.std(dim=0).mean().item() for block, m in means.items()}


def spread_resamples(
    gates: Mapping[str, Tensor],
    labels: Tensor,
    num_classes: int,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Tensor]:
    """The class spread of each entry of ``gates`` (``{name: (N, C, ...)}``, per test image, one
    label each) in ``resamples`` bootstrap resamples of the images, the same resamples for every
    entry (paired: one resample serves every block and network compared), and last on all the
    images once: ``{name: (resamples + 1,)}``, so ``[..., -1]`` is the statistic itself. The
    class spread is the standard deviation across classes of each channel's class-mean gate,
    averaged over the channels, as :func:`class_spread`."""
    labels = labels.cpu()
    n = len(labels)
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(n, (resamples, n), generator=gen)
    # each row: how often each image is drawn in one resample; the last row draws each once
    counts = torch.zeros(resamples + 1, n, dtype=torch.float64)
    counts[:-1].scatter_add_(1, idx, torch.ones(resamples, n, dtype=torch.float64))
    counts[-1] = 1
    members = [torch.nonzero(labels == k)[:, 0] for k in range(num_classes)]

    def spread(g: Tensor) -> Tensor:  # (N, C) -> (R + 1,)
        g = g.flatten(1).double().cpu()
        total = square = 0  # over the classes, of each resample's class-mean gates (R + 1, C)
        for i in members:  # one class at a time keeps the memory at (R + 1, C)
            w = counts[:, i]  # (R + 1, n_k)
            m = (w @ g[i]) / w.sum(1, keepdim=True).clamp(min=1)  # (R + 1, C)
            total, square = total + m, square + m * m
        k = num_classes
        var = (square - total * total / k) / (k - 1)  # the unbiased variance across classes
        return var.clamp(min=0).sqrt().mean(dim=1)

    return {name: spread(g) for name, g in gates.items()}


@torch.no_grad()
def module_input(model: nn.Module, module: nn.Module, images: Tensor) -> Tensor:
    """What ``module`` receives inside ``model`` (in eval mode) for normalised ``images``."""
    seen: dict[str, Tensor] = {}
    hook = module.register_forward_pre_hook(lambda _m, inp: seen.update(x=inp[0].detach()))
    was_training = model.training
    try:
        model.eval()
        model(images)
    finally:
        hook.remove()
        model.train(was_training)
    return seen["x"]
