"""views.residual_attention: the masks flattened into channel gates at test time, its verdict."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention.residual_attention import ResidualAttention
from attncv.views import residual_attention as rav
from attncv.views.verdicts import MIXED, Evidence

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        ResidualAttention(8),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    ).eval()


def test_as_channel_gate_flattens_every_mask_over_positions_only() -> None:
    net, x = tiny(), torch.randn(3, 3, 9, 7)
    seen: list[torch.Tensor] = []
    flat = rav.as_channel_gate(net)
    flat[1].tap.register_forward_hook(lambda m, i, out: seen.append(out))
    with torch.no_grad():
        before = net[1].mask(net[1].pre(net[0](x)))  # the trained mask, (N, C, H, W)
        flat(x)
    assert seen[0].shape == before.shape
    torch.testing.assert_close(seen[0], before.mean((2, 3), keepdim=True).expand_as(before))
    assert seen[0].std(dim=(2, 3)).max() < 1e-6 and seen[0].std(dim=1).max() > 1e-3
    assert not net[1].tap._forward_hooks  # the caller's network untouched
    with torch.no_grad():
        assert not torch.allclose(flat(x), net(x))  # the output depends on where the mask points


def test_as_channel_gate_needs_residual_attention() -> None:
    with pytest.raises(ValueError, match="no residual attention module"):
        rav.as_channel_gate(nn.Linear(2, 2))


def test_mask_use_evidence_pairs_the_same_images() -> None:
    net = tiny()
    images, labels = torch.randn(40, 3, 8, 8), torch.arange(40) % 4
    loss, acc = rav.mask_use_evidence(net, images, labels)
    assert loss.expected == "below" and acc.expected == "above"
    assert loss.control_label == acc.control_label == rav.CHANNEL_GATE
    assert "40 test images" in loss.band_how and "95%" in loss.band_how
    same = rav.mask_use_evidence(net, images, labels, prepare=lambda b: b)
    assert same[0].trained == pytest.approx(loss.trained)


def evidence(loss_diff: float, acc_diff: float) -> tuple[Evidence, Evidence]:
    def e(stat: str, d: float, expected: str) -> Evidence:
        return Evidence(
            stat,
            0.5 + d,
            0.5,
            rav.CHANNEL_GATE,
            0.01,
            "95% paired bootstrap over 9 test images",
            expected,
        )

    return e("test log-loss", loss_diff, "below"), e("test accuracy", acc_diff, "above")


@pytest.mark.parametrize(
    ("loss", "acc", "holds"),
    [(-0.1, 0.05, True), (0.1, -0.05, False), (0.0, 0.0, None), (-0.1, -0.05, MIXED)],
)
def test_mask_use_verdict_outcomes(loss: float, acc: float, holds: object) -> None:
    v = rav.mask_use_verdict(evidence(loss, acc))
    assert v.holds is holds and "Wang et al. 2017" in v.paper
    assert v.finding == v.words[holds]
