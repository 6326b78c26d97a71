"""The channel graders accept correct implementations (the library's and a reader's written with
nn.Linear) and reject realistic mistakes with the right advice."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from attncv.attention.eca import ECA
from attncv.attention.se import SE
from attncv.attention.sk import SK
from attncv.exercises.channel import check_eca, check_se, check_sk

# Mistakes are written as subclasses of the library's modules, and the library's modules are
# graded as references: the rule against such answers is tested in test_honesty.py.
pytestmark = pytest.mark.usefixtures("library_answers")


class ReaderSE(nn.Module):
    """SE as a reader writes it: Linear layers; knobs for the usual mistakes."""

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        *,
        sigmoid: bool | str = True,
        pool: str = "avg",
        combine: str = "scale",
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)
        self.sigmoid, self.pool, self.combine = sigmoid, pool, combine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3)) if self.pool == "avg" else x.amax((2, 3))
        z = self.fc2(torch.relu(self.fc1(s)))
        gates = {True: torch.sigmoid, False: lambda t: t, "softmax": lambda t: t.softmax(1)}
        g = gates[self.sigmoid](z)[:, :, None, None]
        if self.combine == "add":
            return x + g
        return x + x * g if self.combine == "residual" else x * g


class ReaderECA(nn.Module):
    def __init__(self, channels: int, *, k: int | None = None, sigmoid: bool = True) -> None:
        super().__init__()
        t = int(abs((math.log2(channels) + 1) / 2))
        k = k or (t if t % 2 else t + 1)
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)
        self.sigmoid = sigmoid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.conv(x.mean((2, 3))[:, None, :])[:, 0]  # (N, C)
        g = torch.sigmoid(z) if self.sigmoid else z
        return x * g[:, :, None, None]


def _failure(report) -> str:
    assert not report.passed
    return next(f"{check}: {msg}" for check, ok, msg in report.rows if not ok)


def test_se_grader_accepts_correct_versions() -> None:
    assert check_se(SE, verbose=False).passed
    assert check_se(ReaderSE, verbose=False).passed


@pytest.mark.parametrize(
    ("mistake", "advice"),
    [
        ({"sigmoid": False}, "sigmoid"),
        ({"reduction": 8}, "C/r = 4"),
        ({"combine": "residual"}, "x + x * gate"),
        ({"combine": "add"}, "one number per channel"),
        ({"pool": "max"}, "average"),
    ],
)
def test_se_grader_rejects_mistakes(mistake: dict, advice: str) -> None:
    report = check_se(lambda c: ReaderSE(c, **mistake), verbose=False)
    assert advice in _failure(report)


def test_eca_grader_accepts_correct_versions() -> None:
    assert check_eca(ECA, verbose=False).passed
    assert check_eca(ReaderECA, verbose=False).passed


def test_eca_grader_rejects_a_fixed_kernel_and_a_missing_sigmoid() -> None:
    fixed = check_eca(lambda c: ReaderECA(c, k=3), verbose=False)  # right for 64, wrong for 256
    assert "k = 5 for C = 256" in _failure(fixed)
    assert "sigmoid" in _failure(check_eca(lambda c: ReaderECA(c, sigmoid=False), verbose=False))


def test_se_grader_names_the_gate_when_it_is_a_softmax() -> None:
    """A softmax instead of the sigmoid used to get a hint about average pooling and ReLU."""
    failure = _failure(check_se(lambda c: ReaderSE(c, sigmoid="softmax"), verbose=False))
    assert "softmax" in failure and "sigmoid" in failure
    assert "average" not in failure and "ReLU" not in failure


def test_eca_grader_checks_every_width_before_its_verdict(capsys) -> None:
    """A fixed k = 3 used to print "All checks passed. Well done!" at C = 64, then fail at
    C = 256 with a hint about a hidden width that ECA does not have."""
    report = check_eca(lambda c: ReaderECA(c, k=3))
    out = capsys.readouterr().out
    assert "checks pass" not in out and out.count("Checking your ECA") == 1
    assert not report.passed
    assert "C = 64" in out and "C = 256" in out
    assert "adapts to C" in out and "hidden width" not in out and "reduction" not in out
    check_eca(ReaderECA)
    assert capsys.readouterr().out.count("All 2 checks pass.") == 1


def test_sk_grader_accepts_the_reference() -> None:
    report = check_sk(SK, verbose=False)
    assert report.passed
    assert not any("Hint" in msg for _, _, msg in report.rows)  # no advice when nothing is wrong


class SoftmaxOverChannels(SK):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        u = [conv(x) for conv in self.convs]
        z = self.fc((u[0] + u[1]).mean((2, 3)))
        a = torch.softmax(self.select(z).view(n, 2, c), dim=2)[..., None, None]
        return a[:, 0] * u[0] + a[:, 1] * u[1]


class FiveByFive(SK):
    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.convs[1][0] = nn.Conv2d(channels, channels, 5, padding=2, groups=32, bias=False)


def test_sk_grader_rejects_mistakes() -> None:
    assert "over the branches" in _failure(check_sk(SoftmaxOverChannels, verbose=False))
    assert "not a 5x5 kernel" in _failure(check_sk(FiveByFive, verbose=False))


def test_grader_prints_its_report(capsys: pytest.CaptureFixture[str]) -> None:
    check_se(lambda c: ReaderSE(c, sigmoid=False))
    out = capsys.readouterr().out
    assert "✗ same output" in out and "Not yet" in out
