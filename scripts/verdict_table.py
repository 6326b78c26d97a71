"""Every verdict in the committed notebooks as one Markdown table: chapter, statistic, trained,
control, noise band (and how it was measured), outcome. Read from the verdicts' JSON records
(``application/vnd.attncv.verdict+json``, stored beside each callout's HTML), so the table is what
the book shows; a callout executed before verdicts carried records is read from its labelled HTML
cells instead, until its notebook is executed again.

    python scripts/verdict_table.py [chapters]
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

RECORD_MIME = "application/vnd.attncv.verdict+json"  # attncv.views.verdicts.RECORD_MIME
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)  # cells may carry data-label

TITLE = re.compile(r'<p class="attncv-verdict-title">Verdict: (.*?)</p>')
CLAIM = re.compile(r"<p><b>(?:Paper|Notes):</b> (.*?)</p>", re.S)


def verdicts(notebook: Path) -> list[tuple[str, str, list[list[str]]]]:
    """(outcome, claim, evidence rows) for every verdict callout in ``notebook``'s outputs."""
    found = []
    for cell in json.loads(notebook.read_text())["cells"]:
        for out in cell.get("outputs", []):
            record = out.get("data", {}).get(RECORD_MIME)
            if record is not None:
                rows = [e["cells"] for e in record["evidence"]]
                found.append((record["outcome"], record["paper"], rows))
                continue
            page = "".join(out.get("data", {}).get("text/html", []))
            if "attncv-verdict-title" not in page:
                continue
            outcome = html.unescape(TITLE.search(page).group(1))
            claim = html.unescape(CLAIM.search(page).group(1)) if CLAIM.search(page) else ""
            rows = [
                [html.unescape(c) for c in CELL.findall(r)]
                for r in ROW.findall(page.split("<tbody>")[-1])
            ]
            found.append((outcome, claim, [r for r in rows if r]))
    return found


def main(root: str = "chapters") -> None:
    print(
        "| chapter | statistic | trained | control | difference | band (how measured) | outcome |"
    )
    print("|---|---|---|---|---|---|---|")
    for nb in sorted(Path(root).rglob("*.ipynb")):
        for outcome, claim, rows in verdicts(nb):
            if not rows:
                print(f"| {nb.stem} | {claim[:60]} | | | | | {outcome} |")
            for statistic, trained, control, diff, band, part in rows:
                print(
                    f"| {nb.stem} | {statistic} | {trained} | {control} | {diff} | {band} | "
                    f"{part} (verdict: {outcome}) |"
                )


if __name__ == "__main__":
    main(*sys.argv[1:])
