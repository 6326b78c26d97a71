"""Grader for the baseline chapter: the reader's own residual block."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..model import BasicBlock
from .grader import check_module
from .report import GradeReport


def _missing_relu(x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    if torch.allclose(torch.relu(got), expected, atol=1e-4):
        return "apply the ReLU after adding the shortcut: your outputs go negative."
    return None


def _missing_shortcut(x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    def similarity(a: Tensor) -> float:  # correlation with the input: the shortcut carries x
        return torch.corrcoef(torch.stack([a.flatten(), x.flatten()]))[0, 1].item()

    if similarity(got) < 0.5 * similarity(expected):
        return (
            "your output hardly follows the input: add the input x (the shortcut) before "
            "the last ReLU."
        )
    return None


def check_basic_block(candidate: Callable[..., nn.Module]) -> GradeReport:
    """Grade a reader's ``MyBlock(channels)`` against :class:`attncv.backbone.BasicBlock` with equal
    input and output channels and stride 1 (conv3x3-BN-ReLU-conv3x3-BN, add the input, ReLU)."""
    return check_module(
        candidate,
        lambda c: BasicBlock(c, c),
        channels=16,
        shape=(2, 8, 6),
        hints=[_missing_relu, _missing_shortcut],
        title="BasicBlock",
    )
