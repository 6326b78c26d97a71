"""ECA's paper facts: the adaptive kernel-size rule, exactly k parameters, gates in (0, 1), and
equality with the 1-D convolution written as a banded C x C matrix (Eq. 7 of the paper)."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture
from attncv.attention.eca import ECA, eca_kernel_size

# k = |log2(C) / 2 + 1 / 2|_odd: 3.5 -> 3, 4 -> 5, 4.5 -> 5, 5 -> 5, 3.79 -> 3, 1.5 -> 1
RULE = {64: 3, 128: 5, 256: 5, 512: 5, 96: 3, 4: 1, 2048: 7}


@pytest.mark.parametrize("channels", sorted(RULE))
def test_kernel_size_rule(channels: int) -> None:
    assert eca_kernel_size(channels) == RULE[channels]
    assert ECA(channels).kernel_size == RULE[channels]


def test_kernel_size_follows_gamma_and_b() -> None:
    assert eca_kernel_size(256, kernel_gamma=1, kernel_b=0) == 9  # log2(256) = 8 -> 9
    assert eca_kernel_size(256, kernel_gamma=4, kernel_b=0) == 3  # 2 -> 3
    with pytest.raises(ValueError, match="ECA: kernel_gamma"):
        eca_kernel_size(64, kernel_gamma=0)


@pytest.mark.parametrize("channels", [64, 128, 256, 512])
def test_exactly_k_parameters(channels: int) -> None:
    module = ECA(channels)
    assert sum(p.numel() for p in module.parameters()) == RULE[channels]


def test_matches_a_banded_matrix_over_channels() -> None:
    torch.manual_seed(0)
    c, k = 64, 3
    module = ECA(c)
    assert module.kernel_size == k
    band = banded(module.kernel.detach(), c)  # W_k of Eq. 7: row i holds w around the diagonal
    x = torch.randn(2, c, 5, 7)
    gate = torch.sigmoid(x.mean(dim=(2, 3)) @ band.T)  # (N, C)
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])


def test_gates_lie_in_zero_one() -> None:
    torch.manual_seed(0)
    module = ECA(128)
    with capture(module) as maps:
        module(torch.randn(4, 128, 6, 6) * 3)
    (gate,) = maps.values()
    assert gate.shape == (4, 128, 1, 1)
    assert (gate > 0).all() and (gate < 1).all()


def test_fixed_kernel_size_and_its_errors() -> None:
    assert sum(p.numel() for p in ECA(64, kernel_size=7).parameters()) == 7
    for bad in (0, 4, -3):
        with pytest.raises(ValueError, match="ECA: kernel_size"):
            ECA(64, kernel_size=bad)


def banded(rows: torch.Tensor, c: int) -> torch.Tensor:
    """The C x C matrix whose row i holds ``rows[i]`` (or the one shared row) around the
    diagonal, cut at the two ends (zero padding)."""
    k = rows.shape[1]
    band = torch.zeros(c, c)
    for i in range(c):
        row = rows[i if len(rows) > 1 else 0]
        for j in range(max(0, i - k // 2), min(c, i + k // 2 + 1)):
            band[i, j] = row[j - i + k // 2]
    return band


@pytest.mark.parametrize("channels, k", [(64, 3), (128, 5), (32, 1)])
def test_non_shared_has_k_weights_per_channel(channels: int, k: int) -> None:
    shared = ECA(channels, kernel_size=k)
    own = ECA(channels, kernel_size=k, shared=False)
    assert sum(p.numel() for p in shared.parameters()) == k
    assert sum(p.numel() for p in own.parameters()) == k * channels
    assert shared.kernel.shape == (1, k) and own.kernel.shape == (channels, k)
    assert "shared=False" in repr(own)


def test_non_shared_matches_its_banded_matrix() -> None:
    torch.manual_seed(0)
    c = 64
    module = ECA(c, kernel_size=5, shared=False)
    x = torch.randn(3, c, 4, 6)
    gate = torch.sigmoid(x.mean(dim=(2, 3)) @ banded(module.kernel.detach(), c).T)  # (N, C)
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])


def test_non_shared_with_identical_rows_is_eca() -> None:
    torch.manual_seed(0)
    shared = ECA(128)
    own = ECA(128, shared=False)
    with torch.no_grad():
        own.weight.copy_(shared.kernel.expand(128, -1))
    x = torch.randn(2, 128, 5, 5)
    torch.testing.assert_close(own(x), shared(x))


def test_kernel_size_one_non_shared_is_se_var2() -> None:
    """The paper's SE-Var2: one weight per channel, no interaction, sigmoid(w_c * y_c)."""
    torch.manual_seed(0)
    module = ECA(16, kernel_size=1, shared=False)
    x = torch.randn(2, 16, 3, 3)
    y = x.mean(dim=(2, 3))  # (N, C)
    gate = torch.sigmoid(y * module.weight[:, 0])
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])
    with pytest.raises(ValueError, match="ECA: shared"):
        ECA(16, shared=1)
