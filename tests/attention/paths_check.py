"""A check shared by the position-attention modules' tests (imported, not a conftest: the name
``conftest`` is taken by tests/conftest.py, which other tests import)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def paths_agree(make: Callable[[bool], nn.Module], x: torch.Tensor) -> None:
    """``make(fused)`` built both ways computes the same output and the same gradients (for the
    input and every parameter) to float tolerance."""
    outs, grads = [], []
    for fused in (True, False):
        module = make(fused)
        xi = x.clone().requires_grad_()
        y = module(xi)
        y.square().mean().backward()
        outs.append(y)
        grads.append([xi.grad] + [p.grad for p in module.parameters()])
    torch.testing.assert_close(outs[0], outs[1], atol=1e-5, rtol=1e-4)
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
