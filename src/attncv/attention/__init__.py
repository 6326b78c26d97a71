"""Attention modules, one per file (``attncv.attention.se.SE``, ...), the registry naming them,
and the tap every module routes its weights through (:mod:`.tap`, caught by :mod:`.probe`)."""

from .probe import capture, taps
from .registry import FAMILIES, PLACEMENTS, REGISTRY, Entry, build, entry, names
from .tap import AttentionMap

__all__ = [
    "FAMILIES",
    "PLACEMENTS",
    "REGISTRY",
    "AttentionMap",
    "Entry",
    "build",
    "capture",
    "entry",
    "names",
    "taps",
]
