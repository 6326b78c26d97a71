"""What goes to $OUT after every step, so that a call stopped at any point still hands back what it
finished: the summary (JSON and Markdown) and ``gpu-run.zip`` (the products, the state, the summary
and the log), plus the summary and the log as files of their own."""

from __future__ import annotations

import json
import os
import zipfile
from typing import TYPE_CHECKING, Any

from .files import copy_atomic, write_atomic
from .plan import Step
from .summary import make_summary, summary_markdown

if TYPE_CHECKING:
    from .run import Run


def publish(run: Run, steps: list[Step]) -> dict[str, Any]:
    """Write the summary and copy everything finished to $OUT (after every step)."""
    summary = make_summary(run, steps)
    write_atomic(run.state_dir / "summary.json", json.dumps(summary, indent=1) + "\n")
    write_atomic(run.state_dir / "summary.md", summary_markdown(summary))
    run.out.mkdir(parents=True, exist_ok=True)
    buffer = run.out / ".gpu-run.zip.tmp"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(run.products.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                z.write(path, str(path.relative_to(run.state_dir)))
        for name in ("state.json", "summary.json", "summary.md", "gpu-run.log"):
            if (run.state_dir / name).exists():
                z.write(run.state_dir / name, name)
    os.replace(buffer, run.out / "gpu-run.zip")
    for name in ("summary.json", "summary.md", "gpu-run.log"):
        if (run.state_dir / name).exists():
            copy_atomic(run.state_dir / name, run.out / name)
    return summary
