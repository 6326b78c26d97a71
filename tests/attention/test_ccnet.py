"""CCNet (Huang et al., 2019): criss-cross attention equals non-local attention restricted to the
row and the column, and two recurrences reach every position."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture
from attncv.attention.ccnet import CCNet


def started(channels: int, recurrence: int = 2, gamma: float = 0.8) -> CCNet:
    torch.manual_seed(0)
    m = CCNet(channels, recurrence=recurrence)
    with torch.no_grad():
        m.gamma.fill_(gamma)
    return m


def masked_non_local(m: CCNet, x: torch.Tensor) -> torch.Tensor:
    """One pass as full (HW x HW) dot-product attention with a row-or-column mask."""
    n, c, h, w = x.shape
    q, k, v = (layer(x).flatten(2) for layer in (m.query, m.key, m.value))  # (N, *, HW)
    rows = torch.arange(h).repeat_interleave(w)  # row of each flattened position
    cols = torch.arange(w).repeat(h)
    on_cross = (rows[:, None] == rows[None, :]) | (cols[:, None] == cols[None, :])  # (HW, HW)
    energy = (q.transpose(1, 2) @ k).masked_fill(~on_cross, float("-inf"))  # (N, HW, HW)
    out = v @ energy.softmax(-1).transpose(1, 2)  # (N, C, HW)
    return x + m.gamma * out.view_as(x)


@pytest.mark.parametrize("shape", [(2, 16, 5, 7), (1, 8, 1, 6), (2, 32, 9, 4), (1, 8, 1, 1)])
@pytest.mark.parametrize("recurrence", [1, 2, 3])
def test_equals_masked_non_local_attention(shape, recurrence: int) -> None:
    m = started(shape[1], recurrence)
    x = torch.randn(shape)
    expected = x
    for _ in range(recurrence):
        expected = masked_non_local(m, expected)
    torch.testing.assert_close(m(x), expected, rtol=1e-5, atol=1e-5)


def test_identity_at_initialisation() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 16, 6, 5)
    assert torch.equal(CCNet(16)(x), x)


def test_parameters_match_the_formula_and_do_not_grow_with_recurrence() -> None:
    for c, r in [(64, 8), (128, 8), (32, 4)]:
        counts = {
            sum(p.numel() for p in CCNet(c, reduction=r, recurrence=k).parameters())
            for k in (1, 2, 3)
        }
        assert counts == {2 * (c * c // r + c // r) + c * c + c + 1}


def test_each_position_attends_to_its_cross_with_itself_once() -> None:
    h, w = 5, 7
    m = started(16, recurrence=1)
    with capture(m) as maps:
        m(torch.randn(2, 16, h, w))
    attn = maps["tap"]
    assert attn.shape == (2, h, w, h + w)
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, h, w))
    assert ((attn > 0).sum(-1) == h + w - 1).all()
    col = attn[..., :h]
    assert (col.diagonal(dim1=1, dim2=3) == 0).all()  # (h, w) is not counted in its column


def influence(m: CCNet, h: int, w: int, at: tuple[int, int]) -> torch.Tensor:
    """Which input positions change the output at one pixel: (H, W) booleans."""
    x = torch.randn(1, m.channels, h, w, requires_grad=True)
    m(x)[0, :, at[0], at[1]].sum().backward()
    return x.grad[0].abs().sum(0) > 0


def test_one_pass_reaches_the_cross_and_two_reach_everything() -> None:
    h, w, at = 6, 5, (2, 3)
    one = influence(started(8, recurrence=1), h, w, at)
    cross = torch.zeros(h, w, dtype=torch.bool)
    cross[at[0], :] = True
    cross[:, at[1]] = True
    assert torch.equal(one, cross)
    assert influence(started(8, recurrence=2), h, w, at).all()


@pytest.mark.parametrize(
    ("channels", "kwargs"), [(4, {}), (64, {"recurrence": 0}), (64, {"recurrence": 1.5})]
)
def test_bad_arguments_are_clear_errors(channels: int, kwargs) -> None:
    with pytest.raises(ValueError, match="^CCNet"):
        CCNet(channels, **kwargs)
