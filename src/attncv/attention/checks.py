"""Argument checks shared by the attention modules, so every module fails the same clear way.

Not TorchScript: ``torch.jit.script`` rejects the modules that call these checks (f-string
messages, ``isinstance`` on Python types), so no registered module scripts. The supported route
to a graph is ``torch.export.export``; ``tests/attention/test_export.py`` checks that every
registered module exports and matches its eager output.
"""

from __future__ import annotations

from torch import Tensor


def check_channels(module: str, channels: int, *, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``channels`` is an int of at least ``minimum``."""
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < minimum:
        raise ValueError(f"{module}: channels must be an integer >= {minimum}, got {channels!r}.")


def reduced(module: str, channels: int, reduction: int | float, *, minimum: int = 1) -> int:
    """Hidden width ``channels // reduction``; a clear error if it leaves fewer than ``minimum``."""
    if reduction <= 0:
        raise ValueError(f"{module}: reduction must be positive, got {reduction!r}.")
    hidden = int(channels // reduction)
    if hidden < minimum:
        raise ValueError(
            f"{module}: channels={channels} with reduction={reduction} leaves {hidden} hidden "
            f"channels (at least {minimum} needed). Use more channels or a smaller reduction."
        )
    return hidden


def check_input(module: str, x: Tensor, channels: int) -> None:
    """Raise ``ValueError`` unless ``x`` is (N, channels, H, W): a 4-D tensor first (a wrong number
    of dimensions is not a wrong channel count), then the channel count."""
    if x.dim() != 4:
        raise ValueError(
            f"{module} expects a 4-D input (N, C, H, W) = (N, {channels}, H, W); got a "
            f"{x.dim()}-D tensor of shape {tuple(x.shape)}. Give it a batch: a single image "
            "(C, H, W) becomes x[None], or x.unsqueeze(0)."
        )
    if x.shape[1] != channels:
        raise ValueError(
            f"{module} was built for {channels} channels and expects input (N, {channels}, H, W); "
            f"got shape {tuple(x.shape)}. Build it with the channel count of the features it sees."
        )
