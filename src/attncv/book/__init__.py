"""The book layer: what the chapter notebooks call around the library. :func:`show_source`
(:mod:`.source`), the Colab first cell (:mod:`.colab`), and the versions derived from the
chapters: student copies (:mod:`.student`) and nbgrader assignments (:mod:`.assign`, with the
points of :mod:`.points`), both from one parser of a chapter's exercises (:mod:`.structure`)."""

from ..env import describe as environment
from .source import show_source

__all__ = ["environment", "show_source"]
