"""The contract every registered attention module keeps (DESIGN.md), checked for all of them."""

from __future__ import annotations

import io

import pytest
import torch

from attncv.attention import REGISTRY, build, names, taps

MODULES = [n for n in names() if n != "none"]


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("shape", [(2, 64, 8, 8), (3, 64, 7, 5), (2, 128, 4, 9)])
def test_shape_kept_and_finite(name: str, shape: tuple[int, int, int, int]) -> None:
    torch.manual_seed(0)
    module = build(name, shape[1])
    x = torch.randn(shape)
    y = module(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", MODULES)
def test_batch_of_one_in_eval_mode(name: str) -> None:
    module = build(name, 64).eval()
    x = torch.randn(1, 64, 5, 7)
    assert module(x).shape == x.shape


@pytest.mark.parametrize("name", MODULES)
def test_gradient_reaches_every_parameter(name: str) -> None:
    torch.manual_seed(0)
    module = build(name, 64)
    for p in module.parameters():  # leave zero-initialised identity starts, so gradients can flow
        if p.ndim > 0 and not p.abs().sum():
            torch.nn.init.normal_(p, std=0.1)
    x = torch.randn(2, 64, 8, 6, requires_grad=True)
    module(x).square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name}: no gradient for {pname}"


@pytest.mark.parametrize("name", MODULES)
def test_state_dict_round_trip(name: str) -> None:
    torch.manual_seed(0)
    a = build(name, 64).eval()
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(1)
    b = build(name, 64).eval()
    b.load_state_dict(torch.load(buffer))
    x = torch.randn(2, 64, 6, 6)
    torch.testing.assert_close(a(x), b(x))


@pytest.mark.parametrize("name", MODULES)
def test_tap_fires(name: str) -> None:
    module = build(name, 64)
    found = taps(module)
    assert found, f"{name} routes no weights through an AttentionMap"
    fired = []
    handles = [m.register_forward_hook(lambda *_: fired.append(1)) for m in found.values()]
    module(torch.randn(2, 64, 8, 8))
    for h in handles:
        h.remove()
    assert fired


@pytest.mark.parametrize("name", MODULES)
def test_wrong_channel_count_is_a_clear_error(name: str) -> None:
    module = build(name, 64)
    with pytest.raises(ValueError, match="64"):
        module(torch.randn(2, 32, 8, 8))


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("channels", [0, -3])
def test_impossible_channels_are_a_clear_error(name: str, channels: int) -> None:
    with pytest.raises(ValueError, match=REGISTRY[name].title.split()[0]):
        build(name, channels)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="se"):
        build("squeeze-excite", 64)


@pytest.mark.parametrize("name", MODULES)
def test_compiles_without_graph_breaks(name: str) -> None:
    torch.manual_seed(0)
    module = build(name, 64).eval()
    x = torch.randn(2, 64, 8, 8)
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x), module(x))


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("shape", [(64, 8, 8), (2, 64, 8, 8, 1), (2, 64)])
def test_a_tensor_that_is_not_4d_is_told_so(name: str, shape: tuple[int, ...]) -> None:
    """A non-4-D input used to get advice to change the channel count."""
    module = build(name, 64)
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\)") as err:
        module(torch.randn(shape))
    assert "channel count" not in str(err.value)
    assert str(err.value).startswith(REGISTRY[name].title)
