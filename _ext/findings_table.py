"""Sphinx extension: the book's page of findings, one table pasted from every chapter's run.

Each module chapter glues its findings once (``attncv.views.findings.glue_findings``): a key
``findings`` holding Markdown table rows ``| chapter | question | outcome | finding |`` without a
header. myst-nb's cross-document glue pastes plain text, HTML and images but not Markdown, and
rows pasted one by one would not make one table; so the ``findings-table`` directive lists the
chapters (``<document> <registry name>`` per line) and, when the page is written, reads each
chapter's glue store (myst-nb's ``<document>.glue.json``) and builds one table, with the module's
row of the committed multi-seed benchmark (``attncv.bench.row.benchmark_row``) beside its
chapter's rows. A chapter whose store has no ``findings`` key (not re-executed since its summary
gained one) is a warning naming it, and its row says so.

The ``brief-cpu-profile`` directive says once, from ``attncv.train.get_profile``, what a brief run
on a CPU is (its images, epochs and width), so the page never restates those numbers by hand.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)
HEADS = ("chapter", "question", "outcome", "what this run found", "benchmark (multi-seed)")
SPLIT = re.compile(r"(?<!\\)\|")


class findings_table(nodes.General, nodes.Element):  # noqa: N801 (a docutils node's name)
    """Placeholder for the table, filled when the page is written (after every chapter is read)."""


class FindingsTable(Directive):
    has_content = True

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        chapters = []
        for line in self.content:
            if line.strip():
                doc, *module = line.split()
                chapters.append((doc, module[0] if module else ""))
                env.note_dependency(str(Path(env.srcdir) / f"{doc}.ipynb"))
        return [findings_table(chapters=chapters)]


class BriefCpuProfile(Directive):
    """A paragraph: what the brief profile shrinks to on a CPU, in the profile's own words."""

    def run(self) -> list[nodes.Node]:
        from attncv.train import get_profile

        note = get_profile("brief", "cpu").note
        return [nodes.paragraph(note, note)]


def parse_rows(markdown: str) -> list[list[str]]:
    """Markdown table rows (``| a | b |`` lines, no header) as lists of cell texts."""
    rows = []
    for line in markdown.strip().splitlines():
        cells = [c.strip().replace("\\|", "|") for c in SPLIT.split(line.strip().strip("|"))]
        if len(cells) >= 4:
            rows.append(cells[:4])
    return rows


def chapter_rows(folder: Path, doc: str) -> list[list[str]] | None:
    """The chapter's glued findings rows, or None where its store has no ``findings`` key."""
    path = folder.joinpath(*doc.split("/")[:-1], f"{doc.split('/')[-1]}.glue.json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8")).get("findings", {}).get("data", {})
    text = data.get("text/markdown") or ""
    return parse_rows(text) or None


def benchmark_text(module: str) -> str:
    """The module's benchmark row in a few words: difference, 95% band, and what it means."""
    if not module:
        return ""
    from attncv.bench.row import benchmark_row

    try:
        row = benchmark_row(module, recipe="fast")
    except (FileNotFoundError, ValueError) as err:
        logger.warning(f"findings table: no benchmark row for {module!r}: {err}")
        return "no benchmark row"
    from attncv.views.evidence_words import count_of

    d, band = row.difference * 100, row.band * 100
    side = "within noise" if abs(d) <= band else ("above" if d > 0 else "below") + " the baseline"
    seeds = count_of(min(len(row.accuracies), len(row.baseline)), "seed")
    return f"{d:+.1f} ± {band:.1f} points ({seeds} a side): {side}"


def build_table(rows: list[tuple[list[str], str, int]]) -> nodes.raw:
    """The table as HTML: each row's four cells, the benchmark cell spanning its chapter's rows;
    every cell names its column (``data-label``) for the phone's stacked layout (attncv.css)."""
    esc = html.escape
    widths = "".join(f'<col style="width: {w}%">' for w in (15, 21, 11, 37, 16))
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADS)
    body = []
    for cells, bench, span in rows:
        tds = "".join(
            f'<td data-label="{esc(h)}">{esc(c)}</td>' for h, c in zip(HEADS, cells, strict=False)
        )
        if span:
            tds += f'<td data-label="{esc(HEADS[-1])}" rowspan="{span}">{esc(bench)}</td>'
        body.append(f"<tr>{tds}</tr>")
    text = (
        '<div class="attncv-table attncv-findings"><table>'
        f"<colgroup>{widths}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    return nodes.raw(text, text, format="html")


class FillFindingsTable(SphinxPostTransform):
    default_priority = 10

    def run(self, **kwargs: object) -> None:
        folder = Path(self.env.mystnb_config.output_folder)  # type: ignore[attr-defined]
        for node in list(self.document.findall(findings_table)):
            rows: list[tuple[list[str], str, int]] = []
            for doc, module in node["chapters"]:
                found = chapter_rows(folder, doc)
                if found is None:
                    logger.warning(
                        f"findings table: {doc} has no glued 'findings' (re-execute it: its "
                        "summary calls attncv.views.findings.glue_findings)",
                        location=node,
                    )
                    title = self.env.titles[doc].astext() if doc in self.env.titles else doc
                    found = [[title, "", "not run yet", "this chapter has not glued its findings"]]
                bench = benchmark_text(module)
                for i, cells in enumerate(found):
                    rows.append((cells, bench, len(found) if i == 0 else 0))
            node.replace_self(build_table(rows))


def setup(app: Sphinx) -> dict[str, object]:
    app.add_node(findings_table)
    app.add_directive("findings-table", FindingsTable)
    app.add_directive("brief-cpu-profile", BriefCpuProfile)
    app.add_post_transform(FillFindingsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
