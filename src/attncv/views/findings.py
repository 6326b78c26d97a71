"""A chapter's findings, glued once for the book's page of findings.

Each chapter's summary calls :func:`glue_findings` with its verdicts, question by question; the
page of findings pastes them from every notebook (myst-nb's ``{glue:md}`path::key```), so the
table across the book is written by the runs, never by hand.

Keys: ``findings`` (the chapter's rows of the table, Markdown without a header: chapter,
question, outcome, finding) and ``findings-<i>-outcome`` / ``-finding`` for each row.
"""

from __future__ import annotations

from collections.abc import Sequence

from .evidence import Verdict
from .glue import glue

HEADER = "| chapter | question | outcome | what this run found |\n|---|---|---|---|"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def findings_rows(chapter: str, rows: Sequence[tuple[str, Verdict]]) -> str:
    """The chapter's rows of the findings table, Markdown (no header: :data:`HEADER`)."""
    if not rows:
        raise ValueError(f"{chapter}: findings need at least one (question, verdict) row.")
    lines = []
    for question, verdict in rows:
        if not isinstance(verdict, Verdict):
            raise TypeError(
                f"{chapter}: {question!r} needs a Verdict, got {type(verdict).__name__}."
            )
        lines.append(
            f"| {_cell(chapter)} | {_cell(question)} | {verdict.short} | {_cell(verdict.finding)} |"
        )
    return "\n".join(lines)


def glue_findings(chapter: str, rows: Sequence[tuple[str, Verdict]]) -> str:
    """Glue the chapter's rows (:func:`findings_rows`) under ``findings`` as Markdown, and each
    row's outcome and finding; return the rows."""
    text = findings_rows(chapter, rows)
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython ships with every kernel
        Markdown = str  # noqa: N806
    glue("findings", Markdown(text))
    for i, (_, verdict) in enumerate(rows):
        glue(f"findings-{i}-outcome", verdict.short)
        glue(f"findings-{i}-finding", verdict.finding)
    return text
