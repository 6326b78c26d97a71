"""Each module that timm also ships computes the same function as timm's, once timm's constructor
arguments are matched to the paper's (``attncv.bench.timm.TIMM_TWINS``) and our weights are copied
into it: an independent implementation, as minGPT checks against Hugging Face's."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention import build
from attncv.bench.timm import TIMM_TWINS, timm_module

pytest.importorskip("timm")


def _tensors(module: nn.Module) -> list[torch.Tensor]:
    return [t for t in [*module.parameters(), *module.buffers()] if t.is_floating_point()]


def _randomised(name: str, channels: int) -> nn.Module:
    """Our module with every parameter and BN statistic random, off its identity start."""
    torch.manual_seed(0)
    module = build(name, channels)
    with torch.no_grad():
        for n, t in [*module.named_parameters(), *module.named_buffers()]:
            if "running_var" in n:
                t.uniform_(0.5, 1.5)
            elif t.is_floating_point():
                t.normal_(0.0, 0.3)
    return module


def _copy(source: nn.Module, target: nn.Module) -> None:
    """Copy in registration order, checking every shape lines up (a 1x1 conv holds a Linear)."""
    src, dst = _tensors(source), _tensors(target)
    assert len(src) == len(dst), f"{len(src)} tensors against timm's {len(dst)}"
    with torch.no_grad():
        for a, b in zip(src, dst, strict=True):
            assert a.numel() == b.numel(), f"{tuple(a.shape)} against timm's {tuple(b.shape)}"
            b.copy_(a.reshape(b.shape))


@pytest.mark.parametrize("name", sorted(TIMM_TWINS))
@pytest.mark.parametrize("channels", [64, 256])
def test_same_function_as_timm(name: str, channels: int) -> None:
    ours = _randomised(name, channels).eval()
    theirs = timm_module(name, channels).eval()
    _copy(ours, theirs)
    x = torch.randn(2, channels, 9, 7)  # odd, non-square: transposes show
    torch.testing.assert_close(ours(x), theirs(x), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(TIMM_TWINS))
def test_same_gradients_as_timm_in_training_mode(name: str) -> None:
    """In training mode (batch statistics in the BNs) the input gradients agree too."""
    ours = _randomised(name, 64).train()
    theirs = timm_module(name, 64).train()
    _copy(ours, theirs)
    x = torch.randn(4, 64, 8, 8)
    grads = []
    for module in (ours, theirs):
        xi = x.clone().requires_grad_()
        module(xi).square().mean().backward()
        grads.append(xi.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=2e-5, rtol=1e-3)
