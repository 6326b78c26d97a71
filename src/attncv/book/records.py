"""The book's records: machine-readable JSON that a notebook output carries beside what a reader
sees (a verdict's record, :data:`attncv.views.verdicts.RECORD_MIME`; a finished run's,
:data:`attncv.train.result.RUN_MIME`). Tools read the records; the
book shows the HTML and must neither show nor warn about the JSON.

:class:`RecordRenderer` is a myst-nb mime renderer plugin (registered under the entry point group
``myst_nb.mime_renderers`` in ``pyproject.toml``): it renders a record as nothing, so the page
shows the callout alone, and without it myst-nb would warn "skipping unknown output mime type",
which fails the book's ``-W`` build.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..train.result import RUN_MIME
from ..views.verdicts import RECORD_MIME

RECORD_TYPES = (RECORD_MIME, RUN_MIME)


class RecordRenderer:
    """Renders the book's record MIME types as no nodes, and never selects them for a page."""

    mime_priority_overrides: ClassVar[list[tuple[str, str, int | None]]] = [
        ("*", mime, None) for mime in RECORD_TYPES
    ]

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool) -> list[Any] | None:
        """No nodes for a record (the output shows its HTML); ``None`` (not ours) otherwise."""
        return [] if data.mime_type in RECORD_TYPES else None
