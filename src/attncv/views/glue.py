"""Numbers and phrases from a run into the book's prose: myst-nb's ``glue``, without myst-nb.

A notebook cell calls ``glue("se-gain", "+3.0 points")``; the Markdown beside it writes
``{glue:text}`se-gain``` and the built page shows the committed value, so a re-execution (on a GPU,
say) rewrites the prose with the run. This writes the same display data as
``myst_nb.glue(name, value, display=False)`` (a ``scrapbook`` record under the papermill MIME
prefix), so it works where myst-nb is not installed (Colab) and keeps the cell quiet.
"""

from __future__ import annotations

from ..env import in_kernel

PREFIX = "application/papermill.record/"


def glue(name: str, value: object) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`` (a string renders as plain text, a
    number as its ``repr``, formatted with ``{glue:text}`name:.1%```). Outside a notebook kernel
    this does nothing."""
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"glue needs a name without spaces, got {name!r}.")
    if not in_kernel():
        return
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": PREFIX}
    display({PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
