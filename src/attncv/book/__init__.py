"""The book layer: what the chapter notebooks call around the library. :func:`show_source`
(:mod:`.source`), the Colab first cell (:mod:`.colab`), student copies (:mod:`.student`)."""

from ..env import describe as environment
from .source import show_source

__all__ = ["environment", "show_source"]
