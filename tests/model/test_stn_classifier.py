"""The window sampler the fixed and the oracle windows share."""

from __future__ import annotations

import torch

from attncv.model import FixedWindow
from attncv.model.stn_classifier import read_windows


def test_read_windows_reads_each_inputs_own_window() -> None:
    x = torch.randn(2, 3, 64, 64)
    theta = torch.tensor([[[0.5, 0, -0.5], [0, 0.5, -0.5]], [[0.5, 0, 0.5], [0, 0.5, 0.5]]])
    out = read_windows(x, theta, 32)
    assert torch.allclose(out[0], x[0, :, :32, :32], atol=1e-5)  # the upper-left quarter
    assert torch.allclose(out[1], x[1, :, 32:, 32:], atol=1e-5)  # the lower-right quarter
    centred = FixedWindow(0.5, 32)(x)
    assert torch.allclose(centred, x[..., 16:48, 16:48], atol=1e-5)
    assert read_windows(x.half(), theta, 32).dtype == torch.float16
    assert read_windows(x.double(), theta.double(), 32).dtype == torch.float64
