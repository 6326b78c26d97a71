"""The autograder's graders, read afresh from their files: what an answer cell changes in the
``attncv`` modules does not reach them (issue 28, item 7), and they grade as the others do."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attncv.attention import registry
from attncv.attention.residual_attention import ResidualAttention
from attncv.attention.se import SE
from attncv.exercises import GradeReport, channel, fresh, honesty
from attncv.exercises import watch as watch_
from attncv.exercises.honesty import RULE
from tests.exercises.test_honesty import _solutions  # the book's graded answers

ROOT = Path(__file__).resolve().parents[2]


class MySE(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (
            x * torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))[..., None, None]
        )


class Wrong(MySE):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 2


def _passing(*args, **kwargs) -> GradeReport:
    report = GradeReport("SE")
    report.add("builds", True)
    return report


def _patch_everything(monkeypatch) -> None:
    """What an answer cell can do to the ``attncv`` modules: a grader that always passes, a rule
    that never refuses, a watch that sees nothing, a reference that is the answer."""
    monkeypatch.setattr(channel, "check_se", _passing)
    monkeypatch.setattr(honesty, "borrowed", lambda *a, **k: None)
    monkeypatch.setattr(honesty, "borrowed_parts", lambda *a, **k: None)
    monkeypatch.setattr(watch_.Watch, "_check", lambda self, frame: None)
    monkeypatch.setattr(SE, "forward", lambda self, x: Wrong.forward(self, x))
    entry = registry.REGISTRY["se"]
    monkeypatch.setitem(registry.REGISTRY, "se", type(entry)(**{**vars(entry), "factory": Wrong}))


def test_patching_the_grader_or_the_reference_does_not_reach_the_fresh_copy(monkeypatch) -> None:
    _patch_everything(monkeypatch)
    assert channel.check_se(Wrong, verbose=False).passed  # the patched grader passes anything
    graders = fresh.graders()
    assert not graders.check_se(Wrong, verbose=False).passed  # compared with the true SE
    assert graders.check_se(MySE, verbose=False).passed
    refused = graders.check_se(SE, verbose=False)
    assert not refused.passed and RULE in refused.failure


def test_an_import_hook_of_the_answer_cell_does_not_serve_the_copy(monkeypatch) -> None:
    class Hook:
        @staticmethod
        def find_spec(name, path=None, target=None):
            raise AssertionError(f"the answer cell's hook was asked for {name}")

    monkeypatch.setattr(sys, "meta_path", [Hook, *sys.meta_path])
    assert fresh.graders().check_se(MySE, verbose=False).passed
    assert sys.meta_path[0] is Hook  # left as it was


def test_the_fresh_copy_refuses_the_cheats_too() -> None:
    class ImportInForward(nn.Module):
        def __init__(self, channels: int, reduction: int = 16) -> None:
            super().__init__()
            self.channels = channels
            self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
            self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
            self.tap = nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            from attncv.attention.se import SE

            return SE.forward(self, x)

    class ThroughTheMro(ResidualAttention):
        def mask(self, x: torch.Tensor) -> torch.Tensor:
            return self.__class__.__mro__[1].mask(self, x)

    graders = fresh.graders()
    for report in (
        graders.check_se(ImportInForward, verbose=False),
        graders.check_residual_attention(ThroughTheMro, verbose=False),
    ):
        assert not report.passed and RULE in report.failure


@pytest.mark.parametrize(("chapter", "solution", "grader"), _solutions(), ids=lambda v: v[:20])
def test_the_fresh_graders_pass_the_books_solutions(chapter, solution, grader, one_thread):
    """With the helpers they import from attncv (sk_groups, localization_network) and the
    residual attention exercise's subclass of attncv's module."""
    namespace = {"__name__": "__main__", "torch": torch, "nn": nn, "F": F, "math": math}
    namespace["ResidualAttention"] = ResidualAttention
    namespace["graders"] = fresh.graders()
    exec(compile(solution, f"<{chapter} solution>", "exec"), namespace)  # noqa: S102
    graded = grader.replace("assert check_", "assert graders.check_")
    exec(compile(graded, f"<{chapter} grader>", "exec"), namespace)  # noqa: S102
