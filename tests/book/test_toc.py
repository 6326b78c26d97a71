"""The reading order from _toc.yml: root first, nested parts, chapters and sections in order."""

from __future__ import annotations

from pathlib import Path

from attncv.book.toc import toc_files

ROOT = Path(__file__).resolve().parents[2]


def test_nested_entries_in_reading_order(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: One\n    chapters:\n"
        "      - file: a\n        sections:\n          - file: a1\n          - file: a2\n"
        "      - file: b\n"
        "  - caption: Two\n    chapters:\n      - file: c\n"
    )
    assert toc_files(toc) == ["intro", "a", "a1", "a2", "b", "c"]


def test_the_books_toc_names_every_chapter_notebook():
    order = toc_files(ROOT / "_toc.yml")
    notebooks = {
        p.relative_to(ROOT).with_suffix("").as_posix()
        for p in (ROOT / "chapters").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    }
    assert order[0] == "chapters/intro"
    assert notebooks <= set(order)
    assert order.index("chapters/baseline") < order.index("chapters/benchmark")
