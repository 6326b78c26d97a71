"""Non-local block: the paper's pairwise functions, identity at start, fused = reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attncv import capture, count_macs
from attncv.attention.non_local import MODES, NonLocal
from attncv.train.modes import wz_scales
from tests.attention.paths_check import paths_agree


def _moved(mode: str = "embedded_gaussian", seed: int = 0, **kwargs) -> NonLocal:
    torch.manual_seed(seed)
    module = NonLocal(64, mode=mode, **kwargs)
    with torch.no_grad():
        module.bn.weight.fill_(0.5)  # off the zero start, so the block's output shows
    return module.eval()


def _paper(module: NonLocal, x: torch.Tensor) -> torch.Tensor:
    """z = BN(W_z y) + x with y_i = 1/C(x) sum_j f(x_i, x_j) g(x_j), written out pairwise."""
    embed = module.mode != "gaussian"  # the Gaussian compares x_i and x_j themselves
    theta = (module.theta(x) if embed else x).flatten(2).transpose(1, 2)  # (N, L, C' or C)
    phi, g = module.phi(x) if embed else x, module.g(x)
    if module.sub_sample:
        phi, g = F.max_pool2d(phi, 2), F.max_pool2d(g, 2)
    phi, g = phi.flatten(2).transpose(1, 2), g.flatten(2).transpose(1, 2)  # (N, S, C')
    s = phi.shape[1]
    if module.mode in ("embedded_gaussian", "gaussian"):
        s_ij = theta @ phi.transpose(1, 2)  # (N, L, S)
        f = torch.exp(s_ij - s_ij.amax(-1, keepdim=True))  # the max cancels in the ratio
        f = f / f.sum(-1, keepdim=True)
    elif module.mode == "dot_product":
        f = theta @ phi.transpose(1, 2) / s
    else:
        pairs = torch.cat(
            [
                theta[:, :, None].expand(-1, -1, s, -1),
                phi[:, None].expand(-1, theta.shape[1], -1, -1),
            ],
            -1,
        )  # (N, L, S, 2C')
        f = torch.relu(pairs @ module.w_f) / s
    y = (f @ g).transpose(1, 2).reshape(x.shape[0], -1, *x.shape[2:])
    return x + module.bn(module.w_z(y))


@pytest.mark.parametrize("mode", MODES)
def test_parameter_count_matches_the_formula(mode: str) -> None:
    c, inner = 64, 32
    expected = 3 * (c * inner + inner) + inner * c + c + 2 * c
    expected += 2 * inner if mode == "concatenation" else 0
    expected -= 2 * (c * inner + inner) if mode == "gaussian" else 0  # no theta, no phi
    assert sum(p.numel() for p in NonLocal(c, mode=mode).parameters()) == expected


@pytest.mark.parametrize("mode", MODES)
def test_identity_at_initialisation_in_train_and_eval(mode: str) -> None:
    module = NonLocal(32, mode=mode, sub_sample=True)
    x = torch.randn(2, 32, 7, 6)
    assert torch.equal(module.train()(x), x)
    assert torch.equal(module.eval()(x), x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sub_sample", [False, True])
def test_matches_the_papers_equation(mode: str, sub_sample: bool) -> None:
    module = _moved(mode, sub_sample=sub_sample)
    x = torch.randn(2, 64, 6, 5)
    torch.testing.assert_close(module(x), _paper(module, x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_fused_and_reference_paths_agree_with_gradients(mode: str) -> None:
    paths_agree(lambda fused: _moved(mode, fused=fused).train(), torch.randn(2, 64, 8, 7))


@pytest.mark.parametrize("mode", MODES)
def test_probed_weights_cover_the_sub_sampled_positions(mode: str) -> None:
    module = _moved(mode, sub_sample=True)
    x = torch.randn(2, 64, 8, 6)
    with capture(module) as maps:
        y = module(x)
    assert maps["tap"].shape == (2, 48, 12)  # every position over the (4 x 3) pooled grid
    if mode in ("embedded_gaussian", "gaussian"):
        torch.testing.assert_close(maps["tap"].sum(-1), torch.ones(2, 48))
    torch.testing.assert_close(y, module(x), atol=1e-5, rtol=1e-4)


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="Non-local: mode"):
        NonLocal(64, mode="gaussian_blur")
    with pytest.raises(ValueError, match="Non-local"):
        NonLocal(1)
    with pytest.raises(ValueError, match="Non-local: sub_sample"):
        NonLocal(8, sub_sample=True)(torch.randn(1, 8, 1, 5))


def test_wz_scales_start_at_zero() -> None:
    model = torch.nn.Sequential(NonLocal(8), NonLocal(8))
    assert wz_scales(model) == {"W_z scale 0": 0.0, "W_z scale 1": 0.0}


def test_gaussian_is_a_softmax_over_the_raw_features() -> None:
    """f(x_i, x_j) = exp(x_i^T x_j), normalised over j: no theta or phi, only g, W_z and BN."""
    module = _moved("gaussian")
    assert not hasattr(module, "theta") and not hasattr(module, "phi")
    x = 0.2 * torch.randn(2, 64, 5, 4)
    seq = x.flatten(2).transpose(1, 2)  # (N, L, C)
    f = torch.exp(torch.einsum("nic,njc->nij", seq, seq))  # (N, L, L)
    g = module.g(x).flatten(2).transpose(1, 2)  # (N, L, C')
    y = (f / f.sum(-1, keepdim=True) @ g).transpose(1, 2).reshape(2, 32, 5, 4)
    torch.testing.assert_close(module(x), x + module.bn(module.w_z(y)), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("fused", [False, True])
def test_gaussian_macs_match_the_formula(fused: bool) -> None:
    c, inner, h, w = 64, 32, 8, 6
    length = h * w
    macs = count_macs(NonLocal(c, mode="gaussian", fused=fused), (1, c, h, w))
    # g and W_z (1x1), then x x^T (C wide) and the weighted sum of g (C' wide)
    assert macs == length * (c * inner + inner * c) + length * length * (c + inner)
