"""GradeReport: a falsy report for the notebooks, a raised failure for autograders."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from attncv.exercises import GradeFailure, GradeReport


def test_assert_passed_is_silent_when_every_check_passed() -> None:
    report = GradeReport("SE")
    report.add("builds", True)
    report.add("output shape", True)
    assert report.assert_passed() is None  # nothing to display: an autograder gives full marks
    assert report.failure == ""


def test_assert_passed_raises_the_first_failure() -> None:
    report = GradeReport("ECA")
    report.add("builds", True)
    report.add("parameter count", False, "expected 5, yours has 3")
    report.add("later", False, "not reached in practice")
    with pytest.raises(GradeFailure, match=r"^ECA: parameter count: expected 5, yours has 3$"):
        report.assert_passed()
    assert issubclass(GradeFailure, AssertionError)  # `assert check_x(...)` and this agree


def test_a_notebook_shows_the_failure_in_one_line() -> None:
    lines = GradeFailure("SE: output shape: expected (2, 64, 9, 7)")._render_traceback_()
    assert len(lines) == 1 and lines[0].endswith(
        "GradeFailure\x1b[0m: SE: output shape: expected (2, 64, 9, 7)"
    )


def test_an_empty_report_does_not_pass() -> None:
    with pytest.raises(GradeFailure, match="no check ran"):
        GradeReport("SE").assert_passed()


# --- Every grader reports, never raises, whatever it is given --------------------------------


class _Raises(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        return x.clone()

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        raise RuntimeError("the reader's backward broke")


class _Gate(nn.Module):
    """A module with one parameter; ``how`` picks what its forward returns."""

    def __init__(self, channels: int = 1, *args, how: str = "inplace", **kwargs) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.full((channels,), 0.5))
        self.how = how

    def forward(self, x):
        s = torch.sigmoid(self.w)[None, :, None, None]
        if self.how == "inplace":  # autograd's RuntimeError in the backward pass
            x *= s
            return x
        if self.how == "backward":
            return _Raises.apply(x * s)
        if self.how == "train-only" and self.training:
            raise ValueError("only in training")
        return {
            "tuple": lambda: (x * s, None),
            "none": lambda: None,
            "numpy": lambda: (x * s).detach().numpy(),
            "double": lambda: (x * s).double(),
            "nan": lambda: x * float("nan"),
            "int": lambda: (x * s).long(),
            "train-only": lambda: x * s,
        }[self.how]()


class _InitRaises(nn.Module):
    def __init__(self, *args, **kwargs) -> None:
        raise KeyError("reader")


class _NoArgs(nn.Module):
    def __init__(self) -> None:
        super().__init__()


MODULE_CANDIDATES = [
    42,
    None,
    "MySE",
    functools.partial(_NoArgs),
    lambda c, **kw: 5,
    lambda *a, **kw: nn.Identity(),
    _InitRaises,
    _NoArgs,
    nn.Module,
] + [
    functools.partial(_Gate, how=how)
    for how in ("inplace", "backward", "tuple", "none", "numpy", "double", "nan", "int")
    + ("train-only",)
]

FUNCTION_CANDIDATES = [
    42,
    None,
    functools.partial(lambda a: 1 / 0),
    lambda *a, **kw: "0.6",
    lambda *a, **kw: float("nan"),
    lambda *a, **kw: torch.tensor(0.5),
    lambda *a, **kw: None,
    lambda: 0,
]


def _module_graders():
    from attncv.exercises import baseline, channel, mixed, spatial

    return [
        channel.check_se,
        channel.check_sk,
        channel.check_eca,
        spatial.check_self_attention,
        spatial.check_non_local,
        spatial.check_stn,
        mixed.check_cbam,
        mixed.check_danet,
        mixed.check_ccnet,
        mixed.check_residual_attention,
        mixed.check_coordinate_attention,
        baseline.check_basic_block,
    ]


@pytest.mark.parametrize("index", range(len(MODULE_CANDIDATES)))
def test_module_graders_report_any_candidate_without_raising(index, capsys, one_thread) -> None:
    candidate = MODULE_CANDIDATES[index]
    for check in _module_graders():
        report = check(candidate)
        assert isinstance(report, GradeReport) and not report.passed, (check, candidate)
        with pytest.raises(GradeFailure):
            report.assert_passed()
    assert "Traceback" not in capsys.readouterr().out


@pytest.mark.parametrize("index", range(len(FUNCTION_CANDIDATES)))
def test_function_graders_report_any_candidate_without_raising(index) -> None:
    from attncv.exercises.benchmark import check_top5_mean
    from attncv.exercises.explorers import check_param_formula

    for check in (check_top5_mean, check_param_formula):
        report = check(FUNCTION_CANDIDATES[index], verbose=False)
        assert isinstance(report, GradeReport) and not report.passed


def test_a_failing_backward_pass_is_a_cross_not_a_crash() -> None:
    """An in-place `x *= s` used to let autograd's RuntimeError escape from check_se."""
    from attncv.exercises.channel import check_se

    class InPlace(nn.Module):
        def __init__(self, channels: int, reduction: int = 16) -> None:
            super().__init__()
            self.fc1 = nn.Linear(channels, channels // reduction)
            self.fc2 = nn.Linear(channels // reduction, channels)

        def forward(self, x):
            s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))
            x *= s[:, :, None, None]
            return x

    report = check_se(InPlace, verbose=False)
    failed = [(c, m) for c, ok, m in report.rows if not ok]
    assert len(failed) == 1 and "in place" in failed[0][1], report


def test_check_se_of_a_number_is_a_report() -> None:
    from attncv.exercises.channel import check_se

    report = check_se(42, verbose=False)
    assert not report.passed and "42" in report.failure


# --- What the report says when everything passes -------------------------------------------


def _passing(reference: bool = False) -> GradeReport:
    report = GradeReport("SE", reference=reference)
    for check in ("builds", "output shape", "parameter count"):
        report.add(check, True)
    return report


def test_a_pass_is_stated_not_congratulated() -> None:
    text = str(_passing())
    assert text.splitlines()[-1] == "All 3 checks pass."
    assert "Well done" not in text


def test_the_books_hidden_solution_is_named_as_such() -> None:
    lines = str(_passing(reference=True)).splitlines()
    assert lines[0] == "Checking the hidden reference solution (SE):"
    assert lines[-1] == (
        "Checked the hidden reference solution: all 3 checks pass. "
        "Your own version is graded the same way."
    )


def test_reference_solution_marks_a_class_and_the_grader_reads_the_mark(capsys) -> None:
    from attncv.exercises import reference_solution
    from attncv.exercises.benchmark import check_top5_mean

    @reference_solution
    def best_five(accuracies):
        top = sorted(accuracies, reverse=True)[:5]
        return sum(top) / len(top)

    assert check_top5_mean(best_five)
    out = capsys.readouterr().out
    assert out.startswith("Checking the hidden reference solution (mean of the best five")
    assert out.rstrip().endswith("Your own version is graded the same way.")

    def mine(accuracies):
        return best_five(accuracies)

    assert check_top5_mean(mine)  # calling a marked answer is not being it
    assert "Checking your mean of the best five epochs" in capsys.readouterr().out
