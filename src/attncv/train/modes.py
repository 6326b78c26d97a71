"""The non-local chapter's comparison of pairwise functions, trained: ResNet-18 with the
non-local block in each ``mode`` on the same data, seed and schedule (:func:`train_modes`),
recording the block's W_z BN scale after every epoch (:func:`wz_scales`). What the runs show
(a table, a verdict) is in :mod:`attncv.views.non_local`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ..attention.non_local import MODES, NonLocal
from ..data import CifarData
from .profiles import Profile
from .result import FitResult
from .runs import train_model


def wz_scales(model: nn.Module) -> dict[str, float]:
    """Mean |BN scale| after W_z of each :class:`NonLocal` in ``model``, by name (0 at init).
    Pass as ``on_epoch=wz_scales`` to :func:`attncv.fit` to record them after every epoch."""
    return {
        f"W_z scale {n}": m.bn.weight.abs().mean().item()
        for n, m in model.named_modules()
        if isinstance(m, NonLocal)
    }


def train_modes(
    data: CifarData, profile: Profile, modes: Sequence[str] = MODES, *, progress: bool | str = True
) -> dict[str, tuple[nn.Module, FitResult]]:
    """ResNet-18 with the non-local block in each pairwise ``mode``, on the same data, seed and
    schedule, recording :func:`wz_scales`: ``{mode: (model, result)}``. The default mode trains
    exactly as ``train_model("non_local", ..., on_epoch=wz_scales)``, so the cache reuses it."""
    runs = {}
    for mode in modes:
        default = mode == "embedded_gaussian"
        runs[mode] = train_model(
            "non_local",
            data,
            profile,
            attention_kwargs=None if default else {"mode": mode},
            on_epoch=wz_scales,
            name=None if default else f"non_local ({mode.replace('_', ' ')})",
            progress=progress,
        )
    return runs
