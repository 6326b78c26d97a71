"""Sphinx extension: the ``{exercise-points}`` directive, a table of every chapter's exercises
with how each is graded and its points, read from the chapter notebooks and
``attncv.book.points`` when the book is built, the same way ``python -m attncv.book.assign``
reads them, so the page for instructors cannot disagree with the assignments.

One row per exercise, in the order of ``_toc.yml``: the assignment (a link to its chapter, and
its total), the exercise's number and label, its grader (a ``check_*()`` function, or "by hand")
and its points.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _cell(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children))


def _text(text: str) -> nodes.entry:
    return _cell(nodes.Text(text))


class ExercisePoints(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        if str(root / "src") not in sys.path:  # the book documents this repository's library
            sys.path.insert(0, str(root / "src"))
        import nbformat

        from attncv.book.assign import chapters
        from attncv.book.points import POINTS
        from attncv.book.structure import parse
        from attncv.book.toc import toc_files

        order = toc_files(root / "_toc.yml")
        found = chapters([root / "chapters"])
        docs = {
            name: path.relative_to(root).with_suffix("").as_posix() for name, path in found.items()
        }
        names = sorted(
            found, key=lambda n: order.index(docs[n]) if docs[n] in order else len(order)
        )
        for name in names:
            self.env.note_dependency(str(found[name]))
        self.env.note_dependency(str(root / "src" / "attncv" / "book" / "points.py"))

        header = ["Assignment", "Exercise", "Graded by", "Points"]
        rows = []
        for name in names:
            exercises = parse(nbformat.read(found[name], as_version=4)).exercises
            total = sum(POINTS[e.label] for e in exercises)
            link = addnodes.pending_xref(
                "",
                nodes.inline("", name),
                refdomain="std",
                reftype="doc",
                reftarget="/" + docs[name],
                refexplicit=True,
                refwarn=True,
            )
            for i, ex in enumerate(exercises):
                first = _cell(link, nodes.Text(f" ({total:g} points)")) if i == 0 else _text("")
                grader = (
                    _cell(*[nodes.literal("", c) for c in ex.checks])
                    if ex.autograded
                    else _text("by hand")
                )
                rows.append(
                    [
                        first,
                        _text(f"{ex.number}: {ex.label}"),  # plain text: wraps at the hyphens
                        grader,
                        _text(f"{POINTS[ex.label]:g}"),
                    ]
                )

        table = nodes.table(classes=["exercise-points"])
        group = nodes.tgroup(cols=len(header))
        table += group
        group += [nodes.colspec(colwidth=w) for w in (30, 35, 35, 10)]
        head = nodes.thead()
        head += nodes.row("", *[_text(h) for h in header])
        body = nodes.tbody()
        body += [nodes.row("", *row) for row in rows]
        group += [head, body]
        return [table]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("exercise-points", ExercisePoints)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
