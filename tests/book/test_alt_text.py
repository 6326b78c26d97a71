"""Every committed figure carries alt text in its cell's metadata (``mystnb.image.alt``), read
from the notebooks themselves: the browser test finds the same in the built book, this finds it
in a second and without a browser."""

from __future__ import annotations

import json
from pathlib import Path

CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"


def test_every_figure_output_has_alt_text_in_its_cell() -> None:
    missing = []
    for nb in sorted(CHAPTERS.rglob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
            if images and len(alt.split()) < 5:  # a sentence, not a word or a placeholder
                missing.append(f"{nb.relative_to(CHAPTERS)} cell {i}")
    assert not missing, "figures without alt text (set mystnb.image.alt):\n" + "\n".join(missing)
