"""A chapter's findings rows (views/findings.py)."""

from __future__ import annotations

import pytest

from attncv.views.findings import HEADER, findings_rows
from attncv.views.verdicts import Verdict


def test_rows_are_a_table_under_the_header() -> None:
    v = Verdict(paper="p", run="r", holds=True, words={True: "It holds | with a pipe."})
    rows = findings_rows("SE", [("class specificity", v), ("accuracy", Verdict("p", "r"))])
    lines = rows.splitlines()
    assert len(lines) == 2
    assert lines[0] == "| SE | class specificity | holds | It holds \\| with a pipe. |"
    assert lines[1].startswith("| SE | accuracy | too small to tell |")
    assert all(line.count(" | ") == HEADER.splitlines()[0].count(" | ") for line in lines)


def test_rows_need_verdicts() -> None:
    with pytest.raises(ValueError, match="at least one"):
        findings_rows("SE", [])
    with pytest.raises(TypeError, match="needs a Verdict"):
        findings_rows("SE", [("q", "holds")])  # type: ignore[list-item]
