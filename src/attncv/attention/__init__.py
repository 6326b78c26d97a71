"""Attention modules, one per file (``attncv.attention.se.SE``, ...), and the registry naming
them."""

from .registry import FAMILIES, PLACEMENTS, REGISTRY, Entry, build, entry, names
from .tap import AttentionMap

__all__ = ["FAMILIES", "PLACEMENTS", "REGISTRY", "AttentionMap", "Entry", "build", "entry", "names"]
