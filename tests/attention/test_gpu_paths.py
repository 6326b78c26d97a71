"""The GPU code paths of every attention module, exercised on a CPU.

No notebook has run on a GPU yet, but everything that differs there runs on a CPU too. Every
registry module runs, forward and backward, under each setting a GPU run uses:

- ``bf16``: autocast in bfloat16 (Ampere and later GPUs);
- ``fp16``: autocast in float16 (a T4; the loss scaling is checked with fit() in
  tests/train/test_gpu_paths.py);
- ``channels_last``: fp32 in the channels_last memory format;
- ``bf16+channels_last``: both, which is what fit() does on a GPU,

with activations arriving in the autocast dtype, as they do inside the network. Checked: the output
keeps the input's shape and dtype (bf16 activations are not upcast to fp32, which doubles their
memory, nor fp32 ones rounded down), it is finite, every parameter and the input get finite
gradients, and the output agrees with the module's own fp32 output within a stated tolerance on
the relative error ``||y - y_fp32|| / ||y_fp32||``:

- bf16: 3e-2 (an 8-bit mantissa rounds to ~4e-3, a few roundings deep; measured at most 1e-2);
- fp16: 5e-3 (an 11-bit mantissa; measured at most 1.5e-3);
- fp32 channels_last: 1e-5 (only the order of summation changes; measured at most 1e-6).

The fused SDPA path of each position-attention module is checked against its reference path under
autocast, and shown to have called SDPA.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attncv.attention import build, names

pytestmark = pytest.mark.usefixtures("one_thread")

MODULES = [n for n in names() if n != "none"]
TOLERANCE = {torch.bfloat16: 3e-2, torch.float16: 5e-3, torch.float32: 1e-5}
SETTINGS = {  # name: (autocast dtype or None, channels_last)
    "bf16": (torch.bfloat16, False),
    "fp16": (torch.float16, False),
    "channels_last": (None, True),
    "bf16+channels_last": (torch.bfloat16, True),
}
# PyTorch's CPU kernel for the weight gradient of a dilated grouped convolution in bf16 with
# channels_last races (torch 2.14: its result changes from run to run, now and then to NaN), and
# SK's second branch is one; CUDA uses other kernels. SK runs bf16 and channels_last separately.
CPU_KERNEL_RACE = {("sk", "bf16+channels_last")}


def off_identity(module: torch.nn.Module) -> torch.nn.Module:
    """Move zero-initialised parameters (residual scales, identity transforms) off zero, so that
    the attention actually changes the output."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            if not p.abs().sum():
                p.normal_(std=0.1)
    return module


def relative_error(y: torch.Tensor, expected: torch.Tensor) -> float:
    return ((y.float() - expected).norm() / expected.norm()).item()


def run(module: torch.nn.Module, x: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        return module(x)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", MODULES)
def test_every_module_runs_the_gpu_paths(name: str, setting: str) -> None:
    if (name, setting) in CPU_KERNEL_RACE:
        pytest.skip("a PyTorch CPU kernel race, not attncv's: see CPU_KERNEL_RACE")
    dtype, channels_last = SETTINGS[setting]
    torch.manual_seed(0)
    module = off_identity(build(name, 32))
    x32 = torch.randn(2, 32, 8, 6)
    expected = module(x32).detach()  # fp32, contiguous, training mode (batch statistics)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    module = module.to(memory_format=fmt)
    x = x32.to(dtype or torch.float32).contiguous(memory_format=fmt).requires_grad_()
    y = run(module, x, dtype)
    assert y.shape == x.shape and y.dtype == x.dtype, f"{name} returned {y.dtype} for {x.dtype}"
    assert torch.isfinite(y).all()
    error = relative_error(y, expected)
    assert error <= TOLERANCE[dtype or torch.float32], f"{name}: relative error {error:.2e}"
    y.float().square().mean().backward()
    assert torch.isfinite(x.grad).all()
    for pname, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"{name}: {pname}"


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels_last"])
@pytest.mark.parametrize("name", ["self_attention", "non_local", "danet"])
def test_the_fused_path_under_autocast_matches_the_reference_path(
    name: str, dtype: torch.dtype, channels_last: bool, monkeypatch
) -> None:
    calls = []
    sdpa = F.scaled_dot_product_attention

    def counted(*args, **kwargs):
        calls.append(args[0].dtype)
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", counted)
    torch.manual_seed(0)
    fused = off_identity(build(name, 32, fused=True))
    reference = build(name, 32, fused=False)
    reference.load_state_dict(fused.state_dict())
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    fused, reference = fused.to(memory_format=fmt), reference.to(memory_format=fmt)
    x32 = torch.randn(2, 32, 8, 8)
    expected = reference(x32).detach()  # fp32, the explicit softmax(q k^T) v
    assert not calls
    x = x32.to(dtype).contiguous(memory_format=fmt)
    a, b = run(fused, x, dtype), run(reference, x, dtype)
    assert calls, "the fused path did not call scaled_dot_product_attention"
    assert a.dtype == b.dtype == dtype and torch.isfinite(a).all()
    assert relative_error(a, expected) <= TOLERANCE[dtype]
    assert relative_error(a, b.float()) <= TOLERANCE[dtype]
