"""The shared attention over positions: fused (SDPA) and reference paths, and the probing tap."""

from __future__ import annotations

import pytest
import torch

from attncv.attention.positions import attend, flatten, listening, unflatten, weights
from attncv.attention.tap import AttentionMap


def _qkv(n: int = 2, length: int = 37, keys: int = 23, d: int = 8, e: int = 24):
    torch.manual_seed(0)
    q, k = torch.randn(n, length, d), torch.randn(n, keys, d)
    v = torch.randn(n, keys, e)
    return [t.requires_grad_() for t in (q, k, v)]


def test_weights_are_a_softmax_over_keys() -> None:
    q, k, _ = _qkv()
    w = weights(q, k, scale=0.5)
    assert w.shape == (2, 37, 23)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 37))
    by_hand = torch.exp(0.5 * torch.einsum("nld,nsd->nls", q, k))
    torch.testing.assert_close(w, by_hand / by_hand.sum(-1, keepdim=True))


@pytest.mark.parametrize("e", [24, 8, 5])  # values wider than, as wide as, narrower than q
def test_fused_and_reference_agree_with_gradients(e: int) -> None:
    for scale in (1.0, 0.125):
        q, k, v = _qkv(e=e)
        fused = attend(q, k, v, scale=scale, fused=True)
        g_fused = torch.autograd.grad(fused.square().sum(), (q, k, v))
        ref = attend(q, k, v, scale=scale, fused=False)
        g_ref = torch.autograd.grad(ref.square().sum(), (q, k, v))
        assert fused.shape == (2, 37, e)
        torch.testing.assert_close(fused, ref, atol=1e-5, rtol=1e-4)
        for a, b in zip(g_fused, g_ref, strict=True):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_a_hooked_tap_sees_the_weights_and_an_unhooked_one_costs_nothing() -> None:
    q, k, v = _qkv()
    tap = AttentionMap("position")
    assert not listening(tap) and not listening(None)
    seen = []
    handle = tap.register_forward_hook(lambda _m, _i, out: seen.append(out))
    assert listening(tap)
    out = attend(q, k, v, fused=True, tap=tap)
    handle.remove()
    assert len(seen) == 1 and seen[0].shape == (2, 37, 23)
    torch.testing.assert_close(seen[0], weights(q, k, scale=1.0))
    torch.testing.assert_close(out, attend(q, k, v, fused=True, tap=tap), atol=1e-5, rtol=1e-4)
    assert len(seen) == 1  # unhooked: the fused path, the tap is not called


def test_flatten_round_trip_and_order() -> None:
    x = torch.randn(2, 5, 3, 4)
    seq = flatten(x)
    assert seq.shape == (2, 12, 5)
    torch.testing.assert_close(seq[:, 1 * 4 + 2], x[:, :, 1, 2])  # position (row 1, col 2)
    torch.testing.assert_close(unflatten(seq, 3, 4), x)
