"""Files written whole (a reader, or a kill half-way, never sees half a file), and the digests that
key a step to its inputs (a notebook's cells, the library's source)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``path`` so that a reader, or a kill half-way, never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def library_hash(root: Path) -> str:
    """The library's source, as attncv's runs cache keys it: any change redoes the whole run."""
    files = sorted((root / "src" / "attncv").rglob("*.py"))
    return digest(*(p.read_bytes() for p in files))


def notebook_hash(path: Path) -> str:
    """A notebook's cells (type, source), not its outputs: the step's input."""
    cells = json.loads(path.read_text()).get("cells", [])
    return digest(json.dumps([(c.get("cell_type"), "".join(c.get("source", ""))) for c in cells]))
