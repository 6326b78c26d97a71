"""DANet (Fu et al., 2019): PAM and CAM against a per-position loop, identity at initialisation."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture
from attncv.attention.danet import DANet


def started(channels: int, alpha: float = 0.7, beta: float = -0.4) -> DANet:
    torch.manual_seed(0)
    m = DANet(channels)
    with torch.no_grad():
        m.alpha.fill_(alpha)
        m.beta.fill_(beta)
    return m


def pam_loop(m: DANet, x: torch.Tensor) -> torch.Tensor:
    """Eqs. 1-2 per output position j: s_ji = softmax_i(B_i . C_j), E_j = sum_i s_ji D_i."""
    n, c, h, w = x.shape
    q, k, v = (layer(x).flatten(2) for layer in (m.query, m.key, m.value))
    out = torch.empty(n, c, h * w)
    for j in range(h * w):
        s = torch.softmax(torch.einsum("nd,ndi->ni", q[:, :, j], k), dim=1)  # (N, HW)
        out[:, :, j] = torch.einsum("ni,nci->nc", s, v)
    return out.view_as(x)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("shape", [(2, 16, 5, 7), (1, 32, 1, 1), (3, 8, 4, 3)])
def test_equals_the_per_position_formulation(shape: tuple[int, int, int, int], fused: bool) -> None:
    m = started(shape[1])
    m.fused = fused
    x = torch.randn(shape)
    a = x.flatten(2)
    energy = a @ a.transpose(1, 2)  # (N, C, C)
    cam = (torch.softmax(-energy, dim=-1) @ a).view_as(x)  # softmax(max - E) == softmax(-E)
    expected = x + 0.7 * pam_loop(m, x) - 0.4 * cam
    torch.testing.assert_close(m(x), expected, rtol=1e-4, atol=1e-4)


def test_fused_and_reference_paths_agree_in_values_and_gradients() -> None:
    torch.manual_seed(0)
    fused, ref = started(16), started(16)
    ref.load_state_dict(fused.state_dict())
    ref.fused = False
    x = torch.randn(2, 16, 6, 6)
    xs = [x.clone().requires_grad_() for _ in range(2)]
    ys = [m(xi) for m, xi in zip((fused, ref), xs, strict=True)]
    torch.testing.assert_close(ys[0], ys[1], rtol=1e-5, atol=1e-5)
    g = torch.randn_like(ys[0])
    for y in ys:
        y.backward(g)
    torch.testing.assert_close(xs[0].grad, xs[1].grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fused.query.weight.grad, ref.query.weight.grad, rtol=1e-4, atol=1e-5)


def test_identity_at_initialisation_and_the_scales_learn_from_zero() -> None:
    torch.manual_seed(0)
    m = DANet(32)
    x = torch.randn(2, 32, 6, 5)
    y = m(x)
    assert torch.equal(y, x)
    (y * torch.randn_like(y)).sum().backward()
    assert m.alpha.grad.abs().item() > 0 and m.beta.grad.abs().item() > 0


def test_parameter_count_matches_the_formula() -> None:
    for c, r in [(64, 8), (128, 8), (96, 4)]:
        assert sum(p.numel() for p in DANet(c, reduction=r).parameters()) == (
            2 * (c * c // r + c // r) + c * c + c + 2
        )


def test_attention_rows_are_distributions_with_the_documented_shapes() -> None:
    m = started(16)
    x = torch.randn(2, 16, 3, 5) * 3
    with capture(m) as maps:
        m(x)
    pos, ch = maps["position_tap"], maps["channel_tap"]
    assert pos.shape == (2, 15, 15) and ch.shape == (2, 16, 16)
    for a in (pos, ch):
        assert (a >= 0).all()
        torch.testing.assert_close(a.sum(-1), torch.ones(a.shape[:2]))


def test_channel_attention_favours_the_least_similar_channels() -> None:
    """The released code's max-minus-energy: a channel's largest weight goes to its least-similar
    channel (softmax(-E)), which the chapter points out."""
    m = started(8)
    x = torch.randn(1, 8, 4, 4)
    x[:, 1] = -x[:, 0]  # channel 1 is channel 0's opposite: the lowest affinity with it
    with capture(m) as maps:
        m(x)
    assert maps["channel_tap"][0, 0].argmax().item() == 1


@pytest.mark.parametrize(("channels", "kwargs"), [(4, {}), (64, {"reduction": 0}), (0, {})])
def test_bad_arguments_are_clear_errors(channels: int, kwargs) -> None:
    with pytest.raises(ValueError, match="^DANet"):
        DANet(channels, **kwargs)
