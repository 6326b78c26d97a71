"""Which precision autocast uses: bf16 where the hardware has it, else fp16 with loss scaling.

bfloat16 keeps float32's exponent range, so training needs no loss scaling; GPUs have it in
hardware from compute capability 8.0 (A100, H100, RTX 30xx and later). Older GPUs, such as
Colab's T4 (capability 7.5), only emulate it, slowly; there float16 with a
:class:`torch.amp.GradScaler` is the fast choice (Micikevicius et al., 2018, *Mixed Precision
Training*). On a CPU autocast is off unless asked for, and then uses bf16.
"""

from __future__ import annotations

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def amp_dtype(device: torch.device | str, choice: str | None = None) -> torch.dtype:
    """The autocast dtype for ``device``: ``choice`` ("bf16" or "fp16") if given, else automatic.

    Automatic: bf16 on a CPU and on CUDA devices of compute capability 8.0 or more, fp16 below.
    """
    if choice is not None:
        if choice not in DTYPES:
            raise ValueError(f"amp_dtype must be one of {sorted(DTYPES)} or None, got {choice!r}.")
        return DTYPES[choice]
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.get_device_capability(device)[0] < 8:
        return torch.float16
    return torch.bfloat16


def label(dtype: torch.dtype, enabled: bool = True) -> str:
    """A short name for reports: "bf16", "fp16" or "fp32" (autocast off)."""
    if not enabled:
        return "fp32"
    return {v: k for k, v in DTYPES.items()}.get(dtype, str(dtype).removeprefix("torch."))


def scaler(device: torch.device | str, dtype: torch.dtype, enabled: bool) -> torch.amp.GradScaler:
    """A gradient scaler that is active for fp16 autocast only (bf16 and fp32 need none)."""
    device = torch.device(device)
    return torch.amp.GradScaler(device.type, enabled=enabled and dtype == torch.float16)
