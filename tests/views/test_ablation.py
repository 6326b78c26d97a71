"""Test-time ablation on a tiny network: a block switched off, a uniform map, the paired band."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention.ccnet import CCNet
from attncv.attention.danet import DANet
from attncv.attention.non_local import NonLocal
from attncv.attention.self_attention import SelfAttention
from attncv.views import ablation
from attncv.views import evidence_words as ew

pytestmark = pytest.mark.usefixtures("one_thread")

C = 16


def tiny(scale: float = 0.0, seed: int = 0) -> nn.Sequential:
    """A stem, four residual-scaled blocks (their scales set to ``scale``), a linear head."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, C, 3, padding=1),
        nn.BatchNorm2d(C),
        SelfAttention(C),
        DANet(C),
        CCNet(C),
        NonLocal(C, mode="dot_product"),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(C, 5),
    )
    with torch.no_grad():
        for p in ("2.gamma", "3.alpha", "3.beta", "4.gamma"):
            net.get_parameter(p).fill_(scale)
        net[5].bn.weight.fill_(scale)
    return net


def images(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=gen), torch.randint(5, (n,), generator=gen)


def test_parts_names_every_switchable_part() -> None:
    found = [(p.block, p.scale, p.kind) for p in ablation.parts(tiny())]
    assert found == [
        ("2", "gamma", "position"),
        ("3", "alpha", "position"),
        ("3", "beta", "channel"),
        ("4", "gamma", "criss-cross"),
        ("5", "w_z", "position"),
    ]
    assert ablation.parts(tiny())[1].name == "3, position attention (alpha)"


def test_switching_off_a_block_at_zero_changes_nothing() -> None:
    net = tiny(scale=0.0)  # every block the identity, as at initialisation
    x, y = images(64)
    for part in ablation.parts(net):
        loss, acc = ablation.ablation_evidence(net, x, y, block=part.block, scale=part.scale)
        assert loss.difference == 0.0 and acc.difference == 0.0  # exactly: the same network
        assert loss.band == 0.0 and loss.holds is None
        assert loss.control_label == acc.control_label == ew.SWITCHED_OFF
        assert loss.expected == "below" and acc.expected == "above"


def test_a_block_with_a_large_scale_changes_the_logits_on_a_copy() -> None:
    net = tiny(scale=3.0).train()
    x, _ = images(16)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        trained = tiny(scale=3.0).eval()(x)
        for part in ablation.parts(net):
            off = ablation.switched_off(net, part.block, part.scale)
            assert not off.training  # eval mode
            assert not torch.allclose(off(x), trained, atol=1e-4), part
    assert net.training  # the caller's network: its mode and its weights untouched
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert net[2].gamma.item() == 3.0 and net[5].bn.weight.eq(3.0).all()


def test_danet_alpha_and_beta_switch_off_separately() -> None:
    block = nn.Sequential(DANet(C))
    with torch.no_grad():
        block[0].alpha.fill_(2.0)
        block[0].beta.fill_(0.5)
    x = torch.randn(2, C, 4, 4, generator=torch.Generator().manual_seed(0))
    d = block[0]
    with torch.no_grad():
        no_alpha = ablation.switched_off(block, "0", "alpha")(x)
        no_beta = ablation.switched_off(block, "0", "beta")(x)
        assert torch.allclose(no_alpha, x + 0.5 * d.channel(x), atol=1e-5)
        assert torch.allclose(no_beta, x + 2.0 * d.position(x), atol=1e-5)
    with pytest.raises(ValueError, match="name one"):
        ablation.switched_off(block, "0")  # two parts: which one?


def test_a_uniform_map_gives_every_query_the_mean_of_the_values() -> None:
    x = torch.randn(2, C, 4, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        sa = nn.Sequential(SelfAttention(C))
        sa[0].gamma.fill_(1.5)
        v = sa[0].value(x)
        expected = x + 1.5 * v.mean(dim=(2, 3), keepdim=True)
        assert torch.allclose(ablation.uniform_map(sa, "0")(x), expected, atol=1e-5)
        assert sa[0].tap._forward_hooks == {}  # the hook sits on the copy's tap only

        dan = nn.Sequential(DANet(C))
        dan[0].beta.fill_(1.0)  # alpha stays 0: the channel part alone
        mean_channel = x.mean(dim=1, keepdim=True)  # every channel gets the mean of the channels
        out = ablation.uniform_map(dan, "0", "beta")(x)
        assert torch.allclose(out, x + mean_channel, atol=1e-5)

        nl = nn.Sequential(NonLocal(C, mode="dot_product")).eval()
        nl[0].bn.weight.fill_(1.0)
        g = nl[0].g(x)
        z = nl[0].bn(nl[0].w_z(g.mean(dim=(2, 3), keepdim=True).expand_as(g)))
        assert torch.allclose(ablation.uniform_map(nl, "0")(x), x + z, atol=1e-5)


def test_ccnet_uniform_map_is_even_over_the_cross() -> None:
    x = torch.randn(1, C, 4, 5, generator=torch.Generator().manual_seed(4))
    cc = nn.Sequential(CCNet(C, recurrence=1))
    with torch.no_grad():
        cc[0].gamma.fill_(1.0)
        v = cc[0].value(x)
        out = ablation.uniform_map(cc, "0")(x)
        h, w = 1, 2  # one pixel: the mean of its column and its row, itself counted once
        cross = v[0, :, :, w].sum(1) + v[0, :, h, :].sum(1) - v[0, :, h, w]
        assert torch.allclose(out[0, :, h, w], x[0, :, h, w] + cross / (4 + 5 - 1), atol=1e-5)


def test_the_band_is_paired_and_shrinks_with_more_images() -> None:
    net = tiny(scale=3.0)
    bands = []
    for n in (40, 640):
        x, y = images(n)
        loss, acc = ablation.ablation_evidence(net, x, y, block="2", control="uniform")
        assert loss.band > 0 and acc.band >= 0 and loss.control_label == ew.UNIFORM_MAP
        assert loss.band_how == ew.band_how(n, "test images")
        assert loss.statistic == "test log-loss, 2, position attention (gamma)"
        bands.append(loss.band)
    assert bands[1] < bands[0] / 2  # 16x the images: about a quarter of the band


def test_ablation_refuses_what_it_cannot_do() -> None:
    net = tiny()
    x, y = images(8)
    with pytest.raises(ValueError, match="no residual-scaled attention block"):
        ablation.switched_off(net, "0")
    with pytest.raises(ValueError, match="no part"):
        ablation.switched_off(net, "2", "beta")
    with pytest.raises(ValueError, match="control"):
        ablation.ablation_evidence(net, x, y, block="2", control="random")
