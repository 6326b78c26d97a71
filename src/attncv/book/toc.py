"""The book's reading order, from its ``_toc.yml`` (Jupyter Book 1.x's table of contents)."""

from __future__ import annotations

from pathlib import Path

import yaml


def toc_files(toc_path: str | Path) -> list[str]:
    """Every document the table of contents names, root first, in reading order (paths
    relative to the book's folder, without suffixes, as ``_toc.yml`` writes them)."""
    toc = yaml.safe_load(Path(toc_path).read_text())
    return [toc["root"], *_files(toc.get("parts", []) + toc.get("chapters", []))]


def _files(entries: list) -> list[str]:
    files = []
    for entry in entries:
        files += [entry["file"]] if "file" in entry else []
        for key in ("chapters", "sections", "parts"):
            files += _files(entry.get(key, []))
    return files
