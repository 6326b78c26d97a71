"""The one list of attention modules: the backbone, the benchmark, the tests and the notebooks all
iterate over :data:`REGISTRY`, so a module added here shows up everywhere.

Adding a module is one import and one :class:`Entry` below, in its family's block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .cbam import CBAM
from .ccnet import CCNet
from .coordinate_attention import CoordinateAttention
from .danet import DANet
from .eca import ECA
from .non_local import NonLocal
from .residual_attention import ResidualAttention
from .se import SE
from .self_attention import SelfAttention
from .sk import SK
from .stn import SpatialTransformer

FAMILIES = ("none", "channel", "spatial", "mixed")
PLACEMENTS = ("branch", "after")


@dataclass(frozen=True)
class Entry:
    """How to build one attention module and where it belongs in a ResNet.

    Attributes:
        factory: called as ``factory(channels, **kwargs)``; returns a shape-preserving module.
        family: ``"channel"`` (what), ``"spatial"`` (where) or ``"mixed"`` (both).
        title: the module's display name, for tables and plots.
        paper: short citation, ``"Author et al., Venue Year"``.
        stages: the ResNet stages (1-4) that receive it by default.
        placement: ``"branch"`` puts it on the residual branch after the second BN, before the
            addition (SE and most channel modules); ``"after"`` puts it after the block's output
            (non-local blocks, as in their paper).
    """

    factory: Callable[..., nn.Module]
    family: str
    title: str
    paper: str
    stages: tuple[int, ...] = (1, 2, 3, 4)
    placement: str = "branch"


REGISTRY: dict[str, Entry] = {
    "none": Entry(lambda channels: nn.Identity(), "none", "Baseline", "He et al., CVPR 2016"),
    # --- channel attention (what) ---
    "se": Entry(SE, "channel", "SE", "Hu et al., CVPR 2018"),
    "sk": Entry(SK, "channel", "SK", "Li et al., CVPR 2019"),
    "eca": Entry(ECA, "channel", "ECA", "Wang et al., CVPR 2020"),
    # --- spatial attention (where) ---
    # quadratic in H W: stages 2-3 (16x16, 8x8) keep it cheap; as standalone residual blocks,
    # "after" the ResNet block (non-local: as in the paper; self-attention: as SAGAN inserts it)
    "self_attention": Entry(
        SelfAttention,
        "spatial",
        "Self-attention",
        "Zhang et al., ICML 2019",
        stages=(2, 3),
        placement="after",
    ),
    "non_local": Entry(
        NonLocal, "spatial", "Non-local", "Wang et al., CVPR 2018", stages=(2, 3), placement="after"
    ),
    "stn": Entry(
        SpatialTransformer,
        "spatial",
        "STN",
        "Jaderberg et al., NeurIPS 2015",
        stages=(1,),
        placement="after",
    ),
    # --- mixed attention (what and where) ---
    "cbam": Entry(CBAM, "mixed", "CBAM", "Woo et al., ECCV 2018"),
    "danet": Entry(DANet, "mixed", "DANet", "Fu et al., CVPR 2019", (3, 4), "after"),  # O((HW)^2)
    "ccnet": Entry(CCNet, "mixed", "CCNet", "Huang et al., ICCV 2019", (2, 3, 4), "after"),
    "residual_attention": Entry(
        ResidualAttention,
        "mixed",
        "Residual attention",
        "Wang et al., CVPR 2017",
        (1, 2, 3),
        "after",
    ),
    "coordinate_attention": Entry(
        CoordinateAttention, "mixed", "Coordinate attention", "Hou et al., CVPR 2021"
    ),
}


def names(family: str | None = None) -> list[str]:
    """Registered module names, optionally only one family's (``"none"`` is the baseline)."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"Unknown family {family!r}; valid families: {', '.join(FAMILIES)}.")
    return [n for n, e in REGISTRY.items() if family is None or e.family == family]


def entry(name: str) -> Entry:
    """The :class:`Entry` registered under ``name``; a ``ValueError`` listing the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown attention module {name!r}. Registered modules: {', '.join(REGISTRY)}."
        ) from None


def build(name: str, channels: int, **kwargs: object) -> nn.Module:
    """Build the module registered under ``name`` for ``channels`` input channels."""
    return entry(name).factory(channels, **kwargs)
