"""Tables for the book and the terminal: an HTML table in a notebook (it wraps and scrolls inside
its own box, never clipped by the page), aligned text on a terminal.

A :class:`Table` is columns, rows of already formatted cells, and a caption saying where the
numbers came from. Numbers are right-aligned; the first column (names) left-aligned.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..env import in_kernel

_NUMBER = re.compile(r"^[\s+\-−±×x~]*[\d.,]+\s*(%|x|×|MB|GB|G|M|k|s)?$")


@dataclass
class Table:
    """A small table: ``columns`` (header cells), ``rows`` (cells as strings) and a ``caption``."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    caption: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"Table row {i} has {len(row)} cells for {len(self.columns)} columns."
                )

    def _numeric(self, j: int) -> bool:
        cells = [str(r[j]) for r in self.rows if str(r[j]).strip() not in ("", "-", "–")]
        return bool(cells) and all(_NUMBER.match(c) for c in cells)

    def _repr_html_(self) -> str:
        align = ["right" if j and self._numeric(j) else "left" for j in range(len(self.columns))]
        head = "".join(
            f'<th style="text-align:{a}">{html.escape(str(c))}</th>'
            for c, a in zip(self.columns, align, strict=True)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:{a}">{html.escape(str(c))}</td>'
                for c, a in zip(row, align, strict=True)
            )
            + "</tr>"
            for row in self.rows
        )
        caption = (
            f'<caption style="caption-side:bottom;text-align:left">'
            f"{html.escape(self.caption)}</caption>"
            if self.caption
            else ""
        )
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (
            '<div class="attncv-table" style="overflow-x:auto;max-width:100%">'
            f'<table class="attncv-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            f"{caption}</table>{notes}</div>"
        )

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # IPython's text/plain: the aligned text, not the dataclass

    def __str__(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[str(c) for c in r] for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]

        def line(row: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if j == 0 or not self._numeric(j) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        out = [line(cells[0]), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in cells[1:]]
        return "\n".join(out + ([self.caption] if self.caption else []) + self.notes)


def show_table(table: Table) -> None:
    """Display ``table``: as HTML in a notebook, as text elsewhere."""
    if in_kernel():
        from IPython.display import display

        display(table)
    else:
        print(table)
