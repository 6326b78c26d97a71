"""The BasicBlock grader accepts the reference and names the usual mistakes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.exercises.baseline import check_basic_block
from attncv.model import BasicBlock

# Mistakes are written as subclasses of the library's modules, and the library's modules are
# graded as references: the rule against such answers is tested in test_honesty.py.
pytestmark = pytest.mark.usefixtures("library_answers")


class _Block(nn.Module):
    def __init__(self, channels: int, shortcut: bool = True, relu_last: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut, self.relu_last = shortcut, relu_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        out = out + x if self.shortcut else out
        return torch.relu(out) if self.relu_last else out


def test_reference_passes() -> None:
    assert check_basic_block(
        lambda c: BasicBlock(c, c),
    )
    assert check_basic_block(_Block)


def test_missing_shortcut_is_named(capsys) -> None:
    assert not check_basic_block(lambda c: _Block(c, shortcut=False))
    assert "shortcut" in capsys.readouterr().out


def test_missing_final_relu_is_named(capsys) -> None:
    assert not check_basic_block(lambda c: _Block(c, relu_last=False))
    assert "ReLU" in capsys.readouterr().out


def test_wrong_parameter_count_is_named(capsys) -> None:
    class Biased(_Block):
        def __init__(self, channels: int) -> None:
            super().__init__(channels)
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=True)

    assert not check_basic_block(Biased)
    assert "parameter count" in capsys.readouterr().out


def test_crashing_code_is_reported_not_raised(capsys) -> None:
    class Broken(nn.Module):
        def __init__(self, channels: int) -> None:
            raise RuntimeError("oops")

    assert not check_basic_block(Broken)
    assert "oops" in capsys.readouterr().out
