"""Attention over positions: softmax(q k^T * scale) v, computed fused or step by step.

The spatial modules (self-attention, the non-local block, DANet's position module) all let every
position of a feature map attend to every other: with the map flattened to a sequence of L = H W
positions, that is scaled-dot-product attention (Vaswani et al., 2017) with one head. Two paths
compute it:

- ``fused=True``: :func:`torch.nn.functional.scaled_dot_product_attention`, which on a GPU
  reaches the fused kernels (FlashAttention, memory-efficient attention) and never stores the
  (L, S) weight matrix, so memory grows with L instead of L^2;
  (a query narrower than the value, as in SAGAN, is zero-padded to the value's width, which
  leaves q k^T unchanged and lets the FlashAttention kernels of CPUs and GPUs apply; a value
  narrower than the query, as in the non-local block's Gaussian, is zero-padded likewise and the
  padded columns of the output are dropped);
- ``fused=False``: the reference path the notebooks walk through, ``softmax(q @ k^T * scale) @ v``,
  which materialises the weights.

The weights for probing: SDPA returns no weights. When the tap passed to :func:`attend` has
forward hooks (someone listens, e.g. :func:`attncv.probe.capture`), that forward pass takes the
reference path and routes the (N, L, S) weights through the tap; unobserved, nothing is stored.

Counting: the zero padding is a speed trick, not part of the operation, so
:func:`attncv.count_macs` computes inside :func:`exact_widths`, where the fused path keeps the
query's own width and the count is the paper's.

API: ``attend(q, k, v, scale=..., fused=..., tap=...)``, ``weights(q, k, scale=...)`` and
``exact_widths()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import flop_registry, register_flop_formula, sdpa_flop_count

_CPU_FLASH = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
# torch counts the GPU kernels' FLOPs, not the CPU one's: add it (once: a module reload, as with
# IPython's autoreload, must not register it twice)
if _CPU_FLASH is not None and _CPU_FLASH not in flop_registry:

    @register_flop_formula(_CPU_FLASH)
    def _cpu_flash_flops(q_shape, k_shape, v_shape, *_args, out_shape=None, **_kwargs) -> int:
        return sdpa_flop_count(q_shape, k_shape, v_shape)


_EXACT = ContextVar("attncv_exact_widths", default=False)


@contextmanager
def exact_widths() -> Iterator[None]:
    """Inside this block the fused path does not zero-pad narrow queries (for counting MACs)."""
    token = _EXACT.set(True)
    try:
        yield
    finally:
        _EXACT.reset(token)


def listening(tap: nn.Module | None) -> bool:
    """True when ``tap`` has forward hooks, so its weights must be computed explicitly."""
    return tap is not None and bool(tap._forward_hooks or tap._forward_pre_hooks)


def weights(q: Tensor, k: Tensor, *, scale: float) -> Tensor:
    """Weights ``softmax(q k^T * scale)`` over the keys: (N, L, d), (N, S, d) -> (N, L, S).

    Every row sums to one: position i's weights over the S key positions.
    """
    return torch.softmax(q @ k.transpose(-2, -1) * scale, dim=-1)  # (N, L, S)


def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    scale: float = 1.0,
    fused: bool = True,
    tap: nn.Module | None = None,
) -> Tensor:
    """``softmax(q k^T * scale) v`` for one head: (N, L, d), (N, S, d), (N, S, e) -> (N, L, e).

    Args:
        q, k, v: queries, keys, values; q and k share the width d, v may be wider (e).
        scale: multiplies the logits (the papers in this course use 1, not 1/sqrt(d)).
        fused: use SDPA (fused kernels on a GPU) unless ``tap`` is listening.
        tap: an :class:`~attncv.attention.AttentionMap` the (N, L, S) weights pass through on
            the reference path.
    """
    if fused and not listening(tap):
        # (N, 1, L, d): the fused kernels take 4-D inputs with a contiguous last dimension (a
        # no-op for channels_last feature maps, whose flattened positions are already rows)
        # FlashAttention wants equal widths; zeros add nothing (skipped while counting MACs)
        d, e = q.shape[-1], v.shape[-1]
        if d < e and not _EXACT.get():
            q, k = (F.pad(t, (0, e - d)) for t in (q, k))  # (N, L, e)
        elif e < d and not _EXACT.get():
            v = F.pad(v, (0, d - e))  # (N, S, d): the zero columns' outputs are cut off below
        q, k, v = (t.contiguous()[:, None] for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, scale=scale)
        return out[:, 0, :, :e]  # (N, L, e)
    w = weights(q, k, scale=scale)  # (N, L, S), materialised
    if tap is not None:
        w = tap(w)
    return w @ v  # (N, L, e)


def flatten(x: Tensor) -> Tensor:
    """A feature map as a sequence of positions: (N, C, H, W) -> (N, H W, C)."""
    return x.flatten(2).transpose(1, 2)  # (N, HW, C); a view for channels_last inputs


def unflatten(seq: Tensor, height: int, width: int) -> Tensor:
    """A sequence of positions back to a feature map: (N, H W, C) -> (N, C, H, W)."""
    return seq.transpose(1, 2).unflatten(2, (height, width))  # (N, C, H, W)
