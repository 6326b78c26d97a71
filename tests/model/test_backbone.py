"""The CIFAR ResNet-18: parameter count, shapes, and where attention goes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention.se import SE
from attncv.model import BasicBlock, count_params, resnet18


def test_parameter_count_for_100_classes() -> None:
    assert count_params(resnet18(100)) == 11_220_132


def test_parameter_count_from_the_formula() -> None:
    widths, total, c_in = [64, 128, 256, 512], 9 * 3 * 64 + 2 * 64, 64
    for stage, c in enumerate(widths):
        for block in range(2):
            total += 9 * c_in * c + 9 * c * c + 4 * c  # two 3x3 convs, two BNs
            if stage > 0 and block == 0:
                total += c_in * c + 2 * c  # 1x1 shortcut with BN
            c_in = c
    total += 512 * 10 + 10
    assert count_params(resnet18(10)) == total


def test_forward_shapes() -> None:
    model = resnet18(7, width=8).eval()
    assert model(torch.randn(3, 3, 32, 32)).shape == (3, 7)
    assert model.features(torch.randn(1, 3, 32, 32)).shape == (1, 64, 4, 4)


def test_se_adds_its_formula_in_every_block() -> None:
    extra = 0
    for c in (64, 128, 256, 512):
        extra += 2 * (2 * c * c // 16 + c // 16 + c)
    assert count_params(resnet18(100, attention="se")) == 11_220_132 + extra


def test_attention_sits_on_the_residual_branch_after_bn2() -> None:
    model = resnet18(10, attention="se", width=16)
    block = model.layer1[0]
    assert isinstance(block.attention, SE) and isinstance(block.after, nn.Identity)
    seen = []
    block.bn2.register_forward_hook(lambda m, i, o: seen.append(("bn2", o)))
    block.attention.register_forward_pre_hook(lambda m, i: seen.append(("attention", i[0])))
    model(torch.randn(2, 3, 32, 32))
    assert [s[0] for s in seen] == ["bn2", "attention"]
    assert torch.equal(seen[0][1], seen[1][1])  # attention gets bn2's output itself


def test_attention_stages_choose_where() -> None:
    model = resnet18(10, attention="se", attention_stages=(3, 4), width=16)
    assert model.attention_stages == (3, 4)
    modules = [n for n, m in model.named_modules() if isinstance(m, SE)]
    assert modules and all(n.startswith(("layer3", "layer4")) for n in modules)


def test_factory_and_kwargs() -> None:
    made = []

    def factory(channels: int) -> nn.Module:
        made.append(channels)
        return SE(channels, reduction=4)

    resnet18(10, attention=factory, attention_stages=[1], width=16)
    assert made == [16, 16]
    model = resnet18(10, attention="se", attention_kwargs={"reduction": 4}, width=16)
    assert model.layer1[0].attention.fc1.out_channels == 4


def test_placement_after_puts_the_module_after_the_block() -> None:
    from attncv.attention import registry

    registry.REGISTRY["_after_test"] = registry.Entry(
        SE, "channel", "Test", "none", stages=(2,), placement="after"
    )
    try:
        model = resnet18(10, attention="_after_test", width=16)
    finally:
        del registry.REGISTRY["_after_test"]
    assert isinstance(model.layer2[0].after, SE)
    assert isinstance(model.layer2[0].attention, nn.Identity)
    assert isinstance(model.layer1[0].after, nn.Identity)


@pytest.mark.parametrize(
    "bad",
    [
        {"attention": "nope"},
        {"attention": 3},
        {"attention": "se", "attention_stages": (5,)},
        {"attention": "se", "attention_stages": ()},
    ],
)
def test_bad_attention_arguments_are_clear_errors(bad: dict) -> None:
    with pytest.raises(ValueError):
        resnet18(10, **bad)


def test_wrong_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="images"):
        resnet18(10, width=8)(torch.randn(2, 1, 32, 32))


def test_block_downsamples_with_a_projection_shortcut() -> None:
    block = BasicBlock(16, 32, stride=2)
    assert block(torch.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
    assert isinstance(block.shortcut, nn.Sequential)


@pytest.mark.parametrize("width", [0, -4, 2.5, True])
def test_a_width_that_is_not_a_positive_integer_is_a_clear_error(width) -> None:
    """Issue 21: width=0 was accepted and failed later, inside torch, naming no argument."""
    with pytest.raises(ValueError, match="width must be a positive integer"):
        resnet18(10, width=width)
