"""Library code shown on the page from its live source, so the book can never drift from it."""

from __future__ import annotations

import inspect


def show_source(obj: object):
    """The source of a library object as a highlighted code block (an IPython ``Code``)."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")
