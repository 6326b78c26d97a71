"""Graders refuse an answer that is the library's own module: the class itself, a subclass of
it, a wrapper around it, a factory that builds it, or a function that calls the library's answer.
Refused answers get a ✗ "your own code" line that names the rule, and no other check runs."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import attncv
from attncv.attention import registry
from attncv.attention.residual_attention import ResidualAttention
from attncv.attention.se import SE
from attncv.exercises import baseline, benchmark, channel, explorers, mixed, spatial
from attncv.exercises.honesty import RULE
from attncv.model import BasicBlock
from attncv.train import best5_mean

ROOT = Path(__file__).resolve().parents[2]

MODULE_GRADERS = {  # grader -> the library's answer it compares with
    "se": (channel.check_se, "se"),
    "sk": (channel.check_sk, "sk"),
    "eca": (channel.check_eca, "eca"),
    "self_attention": (spatial.check_self_attention, "self_attention"),
    "non_local": (spatial.check_non_local, "non_local"),
    "stn": (spatial.check_stn, "stn"),
    "cbam": (mixed.check_cbam, "cbam"),
    "danet": (mixed.check_danet, "danet"),
    "ccnet": (mixed.check_ccnet, "ccnet"),
    "residual_attention": (mixed.check_residual_attention, "residual_attention"),
    "coordinate_attention": (mixed.check_coordinate_attention, "coordinate_attention"),
}


def _grade(check, candidate):
    try:
        return check(candidate, verbose=False)
    except TypeError:  # the spatial and baseline graders print always
        return check(candidate)


def _refused(report) -> str:
    assert not report.passed
    failed = [(check, msg) for check, ok, msg in report.rows if not ok]
    assert failed, report
    check, msg = failed[0]
    assert "your own code" in check, report
    assert RULE in msg, msg
    return msg


def _cheats(name: str) -> dict[str, object]:
    lib = registry.REGISTRY[name].factory

    class Subclass(lib):  # type: ignore[misc, valid-type]
        pass

    class Wrapper(nn.Module):
        def __init__(self, channels: int, **kwargs) -> None:
            super().__init__()
            self.inner = lib(channels, **kwargs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)

    class HiddenWrapper(nn.Module):  # the library's module kept out of the registered children
        def __init__(self, channels: int, **kwargs) -> None:
            super().__init__()
            self.__dict__["inner"] = [lib(channels, **kwargs)]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.__dict__["inner"][0](x)

    class ThroughTheRegistry(nn.Module):  # its own parameters, the library's function
        def __init__(self, channels: int, **kwargs) -> None:
            super().__init__()
            self.channels = channels

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return registry.build(name, self.channels)(x)

    return {
        "the class": lib,
        "a subclass": Subclass,
        "a wrapper": Wrapper,
        "a hidden wrapper": HiddenWrapper,
        "a factory": lambda c, **kw: lib(c, **kw),
        "a partial": functools.partial(lib),
        "the registry": ThroughTheRegistry,
    }


CASES = [(g, cheat) for g in MODULE_GRADERS for cheat in _cheats("se")]


@pytest.mark.parametrize(("grader", "cheat"), CASES, ids=[f"{g}-{c}" for g, c in CASES])
def test_module_graders_refuse_the_librarys_answer(grader, cheat, one_thread) -> None:
    check, name = MODULE_GRADERS[grader]
    _refused(_grade(check, _cheats(name)[cheat]))


def test_the_import_cheat_of_the_issue_scores_nothing() -> None:
    """`from attncv.attention.se import SE as MySE` used to score 4/4."""
    report = channel.check_se(SE, verbose=False)
    msg = _refused(report)
    assert "SE" in msg and "attncv.attention.se" in msg
    assert len(report.rows) == 1  # nothing else is graded


def test_the_residual_attention_exercise_may_subclass_but_must_write_the_mask() -> None:
    """The chapter's exercise: subclass the library's module and write its soft mask."""

    class NoMask(ResidualAttention):
        pass

    class SuperMask(ResidualAttention):
        def mask(self, x: torch.Tensor) -> torch.Tensor:
            return super().mask(x)

    class ExplicitMask(ResidualAttention):
        def mask(self, x: torch.Tensor) -> torch.Tensor:
            return ResidualAttention.mask(self, x)

    class Inherited(ResidualAttention):
        mask = ResidualAttention.mask

    class Nested(ResidualAttention):  # its own mask, but the whole module inside
        def __init__(self, channels: int) -> None:
            super().__init__(channels)
            self.inner = ResidualAttention(channels)

        def mask(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner.mask(x)

    for cheat in (NoMask, SuperMask, ExplicitMask, Inherited, Nested):
        _refused(mixed.check_residual_attention(cheat, verbose=False))

    class MyRA(ResidualAttention):  # the book's answer
        def mask(self, x: torch.Tensor) -> torch.Tensor:
            sizes, skips = [], []
            for level, block in enumerate(self.down):  # bottom-up
                sizes.append(x.shape[2:])
                x = block(F.max_pool2d(x, 3, stride=2, padding=1))
                if level < len(self.skips):
                    skips.append(self.skips[level](x))
            for level in reversed(range(len(self.down))):  # top-down
                x = F.interpolate(x, size=sizes[level], mode="bilinear", align_corners=False)
                if level > 0:
                    x = self.up[level - 1](x + skips[level - 1])
            return torch.sigmoid(self.head(x))

    assert mixed.check_residual_attention(MyRA, verbose=False).passed


def test_the_basic_block_grader_refuses_the_librarys_block() -> None:
    class Sub(BasicBlock):
        def __init__(self, channels: int) -> None:
            super().__init__(channels, channels)

    for cheat in (lambda c: BasicBlock(c, c), Sub):
        _refused(baseline.check_basic_block(cheat))


def test_function_graders_refuse_the_librarys_function() -> None:
    def calls_it(accuracies):
        return best5_mean(accuracies)

    def through_the_package(accuracies):
        return attncv.train.best5_mean(accuracies)

    for cheat in (best5_mean, calls_it, through_the_package, functools.partial(best5_mean)):
        _refused(benchmark.check_top5_mean(cheat, verbose=False))

    def counts_the_module(channels, reduction):
        return attncv.count_params(SE(channels, reduction=reduction))

    def builds_it(channels, reduction):
        return sum(
            p.numel() for p in registry.build("se", channels, reduction=reduction).parameters()
        )

    for cheat in (counts_the_module, builds_it):
        _refused(explorers.check_param_formula(cheat, verbose=False))


def _solutions() -> list[tuple[str, str, str]]:
    """(chapter, solution cell, grader cell) for every autograded exercise of the book."""
    found = []
    for path in sorted((ROOT / "chapters").rglob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for i, cell in enumerate(cells[:-1]):
            after = "".join(cells[i + 1]["source"])
            if "solution" in cell["metadata"].get("tags", []) and "assert check_" in after:
                found.append((path.stem, "".join(cell["source"]), after))
    return found


@pytest.mark.parametrize(("chapter", "solution", "grader"), _solutions(), ids=lambda v: v[:20])
def test_the_books_hidden_solutions_are_their_own_code(chapter, solution, grader, one_thread):
    """The book's answers (some use the library's helpers: sk_groups, localization_network; the
    residual attention exercise subclasses the module and writes forward) still pass."""
    import math

    import torch.nn.functional as F

    namespace = {"__name__": "__main__", "torch": torch, "nn": nn, "F": F, "math": math}
    namespace["ResidualAttention"] = ResidualAttention
    exec(compile(solution, f"<{chapter} solution>", "exec"), namespace)  # noqa: S102
    exec(compile(grader, f"<{chapter} grader>", "exec"), namespace)  # noqa: S102


def test_a_student_stub_is_not_written_yet_and_its_mark_is_no_pass() -> None:
    """The student copy's placeholder reaches the grader's "not written yet"; the same marker
    on a cheat (the library's module underneath) is still refused."""
    from attncv.attention.se import SE
    from attncv.book.student import _Todo, todo
    from attncv.exercises import channel

    report = channel.check_se(todo("MySE", "Exercise 1"), verbose=False)
    assert not report.passed and "not written yet" in report.failure

    class Cheat(SE, _Todo):
        attncv_placeholder = True

    _refused(channel.check_se(Cheat, verbose=False))
