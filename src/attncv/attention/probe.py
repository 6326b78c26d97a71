"""Capture attention maps from any model, at no cost when nobody listens.

Every attention module routes its weights through an :class:`~attncv.attention.AttentionMap`.
:func:`capture` hooks all of them for the duration of a ``with`` block::

    with capture(model) as maps:
        model(images)
    maps["layer4.1.attention.tap"]  # (N, C, 1, 1) for SE

Several forward passes inside one block concatenate along the batch dimension.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from .tap import AttentionMap


def taps(model: nn.Module, kind: str | None = None) -> dict[str, AttentionMap]:
    """The model's attention taps by qualified name, optionally only those of one ``kind``."""
    return {
        n: m
        for n, m in model.named_modules()
        if isinstance(m, AttentionMap) and (kind is None or m.kind == kind)
    }


@contextmanager
def capture(
    model: nn.Module, kind: str | None = None, *, device: str | torch.device = "cpu"
) -> Iterator[dict[str, Tensor]]:
    """Record the weights passing through every tap (of ``kind``) while the block runs.

    Yields a dict ``{tap name: tensor}``, filled when the block ends; tensors are detached, float32
    and moved to ``device``. Raises ``ValueError`` if the model has no tap to listen to.
    """
    found = taps(model, kind)
    if not found:
        raise ValueError(
            f"{type(model).__name__} has no AttentionMap taps"
            f"{f' of kind {kind!r}' if kind else ''}: build it with an attention "
            "module (for example resnet18(attention='se'))."
        )
    maps: dict[str, Tensor] = {}
    parts: dict[str, list[Tensor]] = {n: [] for n in found}

    def hook(name: str):
        def record(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            parts[name].append(output.detach().float().to(device))

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in found.items()]
    try:
        yield maps
    finally:
        for h in handles:
            h.remove()
        maps.update({n: torch.cat(p) for n, p in parts.items() if p})
