"""SAGAN self-attention: the paper's facts, an independent formulation, the two paths agree."""

from __future__ import annotations

import pytest
import torch

from attncv import capture, resnet18
from attncv.attention.self_attention import SelfAttention
from attncv.views.spatial import gammas
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
    """o_j = sum_i beta_{j,i} h(x_i), beta_{j,i} = softmax_i(f(x_j)^T g(x_i)), y = x + gamma o."""
    module = _moved()
    x = torch.randn(2, 64, 6, 5)
    conv = lambda layer: (
        torch.einsum("oc,nchw->nohw", layer.weight[:, :, 0, 0], x) + layer.bias[None, :, None, None]
    )
    f, g, h = (conv(m).flatten(2) for m in (module.query, module.key, module.value))
    s = torch.einsum("ncj,nci->nji", f, g)  # (N, HW, HW): query j, key i
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
