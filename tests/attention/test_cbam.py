"""CBAM (Woo et al., 2018): the paper's two gates, their order, and its ablation switches."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture
from attncv.attention.cbam import CBAM


def reference(m: CBAM, x: torch.Tensor) -> torch.Tensor:
    """The paper's Eqs. 2-3 written out: two separate MLP calls, then the 7x7 convolution."""
    fc1, fc2 = m.mlp[0], m.mlp[2]

    def mlp(v: torch.Tensor) -> torch.Tensor:
        return fc2(torch.relu(fc1(v)))

    mc = torch.sigmoid(mlp(x.mean(dim=(2, 3))) + mlp(x.amax(dim=(2, 3))))  # (N, C)
    x = x * mc[:, :, None, None]
    conv, bn = m.conv
    s = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)  # (N, 2, H, W)
    return x * torch.sigmoid(bn(conv(s)))


@pytest.mark.parametrize("shape", [(2, 32, 7, 5), (1, 64, 1, 1), (3, 48, 3, 11)])
def test_equals_the_papers_equations(shape: tuple[int, int, int, int]) -> None:
    torch.manual_seed(0)
    m = CBAM(shape[1]).eval()
    torch.nn.init.normal_(m.conv[1].weight)  # a BN that is not the identity
    m.conv[1].running_mean.fill_(0.3)
    x = torch.randn(shape)
    torch.testing.assert_close(m(x), reference(m, x))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, lambda c, h: 2 * c * h + h + c + 2 * 49 + 2),
        ({"channel": False}, lambda c, h: 2 * 49 + 2),
        ({"spatial": False}, lambda c, h: 2 * c * h + h + c),
        ({"pool_types": ("avg",)}, lambda c, h: 2 * c * h + h + c + 49 + 2),
        ({"reduction": 8, "kernel_size": 3}, lambda c, h: 2 * c * 2 * h + 2 * h + c + 18 + 2),
    ],
)
def test_parameter_count_matches_the_formula(kwargs, expected) -> None:
    c = 128
    m = CBAM(c, **kwargs)
    assert sum(p.numel() for p in m.parameters()) == expected(c, c // 16)


def test_gates_are_in_unit_interval_with_the_documented_shapes() -> None:
    m = CBAM(32)
    x = torch.randn(2, 32, 6, 9) * 10
    with capture(m) as maps:
        m(x)
    ch, sp = maps["channel_tap"], maps["spatial_tap"]
    assert ch.shape == (2, 32, 1, 1) and sp.shape == (2, 1, 6, 9)
    for g in (ch, sp):
        assert (g > 0).all() and (g < 1).all()


def test_ablation_switches_compute_only_their_gate() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 32, 5, 5)
    full = CBAM(32).eval()
    channel_only = CBAM(32, spatial=False).eval()
    channel_only.mlp.load_state_dict(full.mlp.state_dict())
    torch.testing.assert_close(channel_only(x), x * full.channel_gate(x))
    spatial_only = CBAM(32, channel=False).eval()
    spatial_only.conv.load_state_dict(full.conv.state_dict())
    torch.testing.assert_close(spatial_only(x), x * full.spatial_gate(x))


def test_average_only_pools_ignore_the_maximum() -> None:
    torch.manual_seed(0)
    m = CBAM(16, reduction=4, pool_types=("avg",)).eval()
    x = torch.randn(2, 16, 4, 4)
    y = x.clone()
    y[:, :, 0, 0] += 1.0  # changes the max but, with y[:, :, 0, 1] lowered, not the mean
    y[:, :, 0, 1] -= 1.0
    gate = torch.sigmoid(m.mlp(x.mean(dim=(2, 3))))[:, :, None, None]
    torch.testing.assert_close(m.channel_gate(x), gate)
    torch.testing.assert_close(m.channel_gate(y), gate)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pool_types": ()},
        {"pool_types": ("avg", "avg")},
        {"pool_types": ("min",)},
        {"channel": False, "spatial": False},
        {"kernel_size": 4},
        {"reduction": 64},
        {"reduction": 0},
    ],
)
def test_bad_arguments_are_clear_errors(kwargs) -> None:
    with pytest.raises(ValueError, match="^CBAM"):
        CBAM(32, **kwargs)


def test_channel_branch_is_one_mlp_call_per_forward() -> None:
    """The fused path: both descriptors go through the MLP together, as one (2N, C) batch."""
    m = CBAM(32)
    calls = []
    m.mlp.register_forward_hook(lambda _m, inp, _out: calls.append(inp[0].shape))
    m(torch.randn(3, 32, 4, 4))
    assert calls == [torch.Size([6, 32])]


def _orders(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every ``order`` with the same weights, and the formulas of the paper's Table 3 written out
    with the default module's gates."""
    torch.manual_seed(0)
    ref = CBAM(16, reduction=4).eval()
    torch.nn.init.normal_(ref.conv[1].weight)  # a BN that is not the identity
    out = {}
    for order in ("channel_first", "spatial_first", "parallel"):
        m = CBAM(16, reduction=4, order=order).eval()
        m.load_state_dict(ref.state_dict())
        out[order] = m(x)
    x1 = x * ref.spatial_gate(x)
    out["spatial_first_ref"] = x1 * ref.channel_gate(x1)
    out["channel_first_ref"] = ref(x)
    z_c = torch.logit(ref.channel_gate(x))  # (N, C, 1, 1), the MLP sum before the sigmoid
    z_s = torch.logit(ref.spatial_gate(x))  # (N, 1, H, W), BN(conv) before the sigmoid
    out["parallel_ref"] = x * torch.sigmoid(z_c + z_s)  # one sigmoid over the summed outputs
    return out


@pytest.mark.parametrize("order", ["channel_first", "spatial_first", "parallel"])
def test_each_order_computes_its_formula(order: str) -> None:
    with torch.no_grad():
        out = _orders(torch.randn(2, 16, 5, 6))
    torch.testing.assert_close(out[order], out[f"{order}_ref"], atol=1e-5, rtol=1e-4)


def test_orders_differ_and_share_the_parameter_count() -> None:
    out = _orders(torch.randn(2, 16, 5, 6))
    assert not torch.allclose(out["channel_first"], out["spatial_first"])
    assert not torch.allclose(out["channel_first"], out["parallel"])
    counts = {
        sum(p.numel() for p in CBAM(64, order=o).parameters())
        for o in ("channel_first", "spatial_first", "parallel")
    }
    assert counts == {64 * 64 * 2 // 16 + 4 + 64 + 2 * 49 + 2}


def test_parallel_gate_is_one_joint_mask_through_its_tap() -> None:
    m = CBAM(16, reduction=4, order="parallel")
    x = torch.randn(2, 16, 5, 6)
    with capture(m) as maps:
        y = m(x)
    assert set(maps) == {"tap"} and maps["tap"].shape == (2, 16, 5, 6)
    torch.testing.assert_close(y, x * maps["tap"])
    assert "tap" not in dict(CBAM(16, reduction=4).named_modules())  # only the parallel one


@pytest.mark.parametrize(
    "kwargs",
    [
        {"order": "both"},
        {"order": "parallel", "spatial": False},
        {"order": "spatial_first", "channel": False},
    ],
)
def test_bad_orders_are_clear_errors(kwargs) -> None:
    with pytest.raises(ValueError, match="^CBAM: order"):
        CBAM(32, **kwargs)
