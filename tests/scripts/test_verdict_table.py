"""scripts/verdict_table.py reads the verdict callouts the notebooks' outputs hold."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from attncv.views.verdicts import RECORD_MIME, Evidence, Verdict

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verdict_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("verdict_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_evidence_row_of_a_callout_is_read(tmp_path: Path) -> None:
    ev = Evidence("weight on the object", 1.9, 5.6, "random q/k", 0.7, "paired bootstrap", "above")
    page = Verdict("Queries attend to the object.", "r", evidence=(ev, ev))._repr_html_()
    cell = {"cell_type": "code", "outputs": [{"data": {"text/html": [page]}}]}
    nb = tmp_path / "chapter.ipynb"
    nb.write_text(json.dumps({"cells": [cell]}))
    [(outcome, claim, rows)] = _script().verdicts(nb)
    assert outcome == "the opposite" and claim == "Queries attend to the object."
    assert len(rows) == 2 and rows[0][0] == "weight on the object"
    assert rows[0][1:4] == ["1.90", "5.60 (random q/k)", "-3.70"] and rows[0][5] == "the opposite"


def test_a_record_is_read_and_gives_the_rows_the_html_gives(tmp_path: Path) -> None:
    ev = Evidence("weight on the object", 1.9, 5.6, "random q/k", 0.7, "paired bootstrap", "above")
    verdict = Verdict("Queries attend to the object.", "r", evidence=(ev, ev))
    bundle = json.loads(json.dumps(verdict._repr_mimebundle_()))  # as a notebook stores it
    html_only = {"text/html": [bundle["text/html"]]}
    with_record = html_only | {RECORD_MIME: bundle[RECORD_MIME] | {"paper": "from the record"}}
    for name, data in (("html", html_only), ("record", with_record)):
        cell = {"cell_type": "code", "outputs": [{"output_type": "display_data", "data": data}]}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps({"cells": [cell]}))
    script = _script()
    [(outcome, claim, rows)] = script.verdicts(tmp_path / "record.ipynb")
    assert claim == "from the record"  # read from the record, not from the HTML
    assert [(outcome, rows)] == [(o, r) for o, _, r in script.verdicts(tmp_path / "html.ipynb")]
    assert script.RECORD_MIME == RECORD_MIME
