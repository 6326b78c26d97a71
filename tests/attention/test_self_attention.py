"""SAGAN self-attention: the paper's facts, an independent formulation, the two paths agree."""

from __future__ import annotations

import pytest
import torch

from attncv import capture, resnet18
from attncv.attention.self_attention import SelfAttention
from attncv.views.self_attention import gammas
from tests.attention.paths_check import paths_agree


def _moved(seed: int = 0, **kwargs) -> SelfAttention:
    torch.manual_seed(seed)
    module = SelfAttention(64, **kwargs)
    with torch.no_grad():
        module.gamma.fill_(0.7)  # off the identity start, so the attention shows in the output
    return module


def test_parameter_count_matches_the_formula() -> None:
    c, r = 64, 8
    expected = 2 * (c * c // r + c // r) + c * c + c + 1
    assert sum(p.numel() for p in SelfAttention(c).parameters()) == expected


def test_identity_at_initialisation() -> None:
    module = SelfAttention(32)
    assert module.gamma.item() == 0.0
    x = torch.randn(2, 32, 7, 5)
    assert torch.equal(module(x), x)


def test_matches_the_papers_equations() -> None:
    """Eq. 1-3 with the library's value: beta_{j,i} = softmax_i(s_ij), s_ij = f(x_i)^T g(x_j),
    o_j = sum_i beta_{j,i} h(x_i), y = x + gamma o; the paper's f is ``key``, its g ``query``."""
    module = _moved()
    x = torch.randn(2, 64, 6, 5)
    conv = lambda layer: (
        torch.einsum("oc,nchw->nohw", layer.weight[:, :, 0, 0], x) + layer.bias[None, :, None, None]
    )
    f, g, h = (conv(m).flatten(2) for m in (module.key, module.query, module.value))
    s = torch.einsum("nci,ncj->nji", f, g)  # (N, HW, HW): s_ij, stored at [j, i]
    beta = torch.exp(s) / torch.exp(s).sum(-1, keepdim=True)
    o = torch.einsum("nji,nci->ncj", beta, h).reshape(x.shape)
    torch.testing.assert_close(module(x), x + 0.7 * o, atol=1e-5, rtol=1e-4)


def test_fused_and_reference_paths_agree_with_gradients() -> None:
    paths_agree(lambda fused: _moved(fused=fused), torch.randn(2, 64, 9, 7))


def test_probed_weights_are_rows_over_positions() -> None:
    module = _moved()
    x = torch.randn(3, 64, 4, 6)
    with capture(module) as maps:
        y = module(x)
    w = maps["tap"]
    assert w.shape == (3, 24, 24)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 24))
    torch.testing.assert_close(y, module(x), atol=1e-5, rtol=1e-4)  # probing changes nothing


def test_bad_reduction_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Self-attention"):
        SelfAttention(4, reduction=8)


def test_in_resnet_it_starts_as_the_baseline() -> None:
    torch.manual_seed(0)
    base = resnet18(10, width=16).eval()
    model = resnet18(10, width=16, attention="self_attention").eval()
    missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and all(".after." in k for k in missing)
    assert model.attention_stages == (2, 3)
    assert len(gammas(model)) == 4  # after each of the two blocks of stages 2 and 3
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), base(x))


def test_the_papers_h_then_v_is_a_value_of_rank_c_over_8() -> None:
    """o_j = v(sum_i beta_{j,i} h(x_i)) with h: C -> C/8, v: C/8 -> C equals the library's block
    with the value W_v W_h (bias W_v b_h + b_v), because each row of beta sums to one."""
    module = _moved()
    h, v = torch.nn.Conv2d(64, 8, 1), torch.nn.Conv2d(8, 64, 1)
    with torch.no_grad():
        w_v = v.weight[:, :, 0, 0]  # (C, C/8)
        module.value.weight.copy_((w_v @ h.weight[:, :, 0, 0])[:, :, None, None])
        module.value.bias.copy_(w_v @ h.bias + v.bias)
    x = torch.randn(2, 64, 5, 4)
    with capture(module) as maps:
        y = module(x)
    hx = h(x).flatten(2)  # (N, C/8, L)
    pooled = torch.einsum("nji,nci->ncj", maps["tap"], hx).reshape(2, 8, 5, 4)
    torch.testing.assert_close(y, x + 0.7 * v(pooled), atol=1e-5, rtol=1e-4)
