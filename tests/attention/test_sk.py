"""SK's paper facts: d = max(C / r, L), the parameter formula, softmax weights over the branches
that sum to one, groups clamped for any width, and equality with the paper's Eqs. 1-6 for M = 2."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from attncv.attention import capture
from attncv.attention.sk import SK, sk_groups


@pytest.mark.parametrize(
    ("channels", "groups"), [(64, 32), (512, 32), (16, 16), (48, 24), (37, 1), (100, 25)]
)
def test_groups_clamp_to_a_divisor(channels: int, groups: int) -> None:
    assert sk_groups(channels) == groups
    module = SK(channels).eval()
    assert module.groups == groups
    x = torch.randn(1, channels, 5, 3)
    assert module(x).shape == x.shape


@pytest.mark.parametrize(("channels", "d"), [(64, 32), (512, 32), (1024, 64), (16, 32)])
def test_descriptor_width(channels: int, d: int) -> None:
    assert SK(channels).hidden == d


@pytest.mark.parametrize("channels", [64, 128, 48, 512])
@pytest.mark.parametrize("m", [2, 3])
def test_parameter_count(channels: int, m: int) -> None:
    g, d = sk_groups(channels), max(channels // 16, 32)
    expected = m * (9 * channels * channels // g + 2 * channels) + channels * d + 2 * d
    expected += m * channels * d
    assert sum(p.numel() for p in SK(channels, branches=m).parameters()) == expected


@pytest.mark.parametrize("m", [2, 3])
def test_branch_weights_are_a_softmax_over_branches(m: int) -> None:
    torch.manual_seed(0)
    module = SK(64, branches=m)
    with capture(module) as maps:
        module(torch.randn(4, 64, 6, 6) * 3)
    (a,) = maps.values()
    assert a.shape == (4, m, 64)
    assert (a > 0).all() and (a < 1).all()
    torch.testing.assert_close(a.sum(1), torch.ones(4, 64))


def _bn(x: torch.Tensor, bn: torch.nn.Module) -> torch.Tensor:
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, eps=bn.eps)


def test_matches_the_papers_equations() -> None:
    torch.manual_seed(0)
    module = SK(64).eval()
    for bn in [module.fc[1]] + [b[1] for b in module.convs]:  # non-trivial BN statistics
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
        torch.nn.init.normal_(bn.weight)
    x = torch.randn(2, 64, 7, 5)
    w3, w5 = (b[0].weight for b in module.convs)
    u1 = torch.relu(_bn(F.conv2d(x, w3, padding=1, groups=32), module.convs[0][1]))
    u2 = torch.relu(_bn(F.conv2d(x, w5, padding=2, dilation=2, groups=32), module.convs[1][1]))
    s = (u1 + u2).mean(dim=(2, 3))  # Eqs. 1-2: (N, C)
    z = torch.relu(_bn(s @ module.fc[0].weight.T, module.fc[1]))  # Eq. 3: (N, d)
    a_rows, b_rows = module.select.weight.detach().split(64)  # A, B: (C, d) each
    ea, eb = torch.exp(z @ a_rows.T), torch.exp(z @ b_rows.T)  # Eq. 5
    a, b = ea / (ea + eb), eb / (ea + eb)
    expected = a[:, :, None, None] * u1 + b[:, :, None, None] * u2  # Eq. 6
    torch.testing.assert_close(module(x), expected)


def test_impossible_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="SK: branches=1"):
        SK(64, branches=1)
    with pytest.raises(ValueError, match="SK: reduction must be a positive integer"):
        SK(64, reduction=0)
    with pytest.raises(ValueError, match="SK: channels must be"):
        SK(0)


def test_a_training_batch_of_one_is_a_clear_error() -> None:
    """The paper's BN in the fuse layer cannot train on one image; PyTorch's own error named
    neither SK nor the fix."""
    sk = SK(64).train()
    with pytest.raises(ValueError, match=r"^SK .*batch ≥ 2 or eval mode"):
        sk(torch.randn(1, 64, 8, 8))
    assert sk.eval()(torch.randn(1, 64, 8, 8)).shape == (1, 64, 8, 8)
    assert sk.train()(torch.randn(2, 64, 8, 8)).shape == (2, 64, 8, 8)
