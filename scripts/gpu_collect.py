"""Here, after a GPU call: check what came back and put it in place in the repository.

    python scripts/gpu_collect.py FILES_AT        # make gpu-collect FROM=FILES_AT

FILES_AT is the folder the device tool copied `$OUT` into (holding `gpu-run.zip`), or the zip.
Every executed notebook goes back to `chapters/<its path>.ipynb` and every result JSON to
`chapters/results/` (`benchmark-fast-cuda.json`, `timm-cuda.json`, the names the benchmark
chapter reads), but only once all of them pass the checks, so nothing is overwritten by a bad file:

- a notebook: valid nbformat; no error output; every code cell with source executed; widgets
  with stored state and no raw widget text (as tests/book/test_notebooks.py asks); run by
  `scripts/gpu_run.py` in the brief profile on a GPU; and its cells the same as the chapter's
  here (a chapter edited since the run is not overwritten: run it again);
- a result: valid JSON of the sweep's or the timm comparison's schema, every run on a GPU; the
  sweep only if the run finished all its seeds (``--partial`` takes an unfinished one).

``--allow-cpu`` and ``--allow-smoke`` accept a CPU or smoke run (the tests' rehearsal);
``--dry-run`` checks and reports without writing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDGET_TEXT = re.compile(r"\b(HBox|VBox|IntProgress|FloatProgress)\(")
SCHEMA = 1  # attncv.bench.sweep.SCHEMA


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def cells_of(nb: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c.get("cell_type", ""), _text(c.get("source"))) for c in nb.get("cells", [])]


def check_notebook(
    name: str, raw: bytes, here: Path | None, *, allow_cpu: bool, allow_smoke: bool
) -> list[str]:
    """What is wrong with an executed notebook, as a list of problems (empty: fine)."""
    problems = []
    try:
        nb = json.loads(raw)
    except ValueError as exc:
        return [f"{name}: not JSON ({exc})"]
    try:
        import nbformat

        nbformat.validate(nbformat.reads(raw.decode(), as_version=4))
    except ImportError:
        pass
    except Exception as exc:  # nbformat.ValidationError and friends
        problems.append(f"{name}: not a valid notebook ({str(exc).splitlines()[0]})")
    stamp = nb.get("metadata", {}).get("attncv", {})
    if stamp.get("executed_by") != "scripts/gpu_run.py":
        problems.append(f"{name}: not executed by scripts/gpu_run.py")
    device = str(stamp.get("device"))
    if not allow_cpu and (device in ("None", "CPU") or device.startswith("CPU")):
        problems.append(f"{name}: executed on {device}, not a GPU")
    if not allow_smoke and stamp.get("profile") != "brief":
        problems.append(f"{name}: profile {stamp.get('profile')!r}, not brief")
    widgets = json.dumps(nb.get("metadata", {}).get("widgets", {}))
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if _text(cell.get("source")).strip() and cell.get("execution_count") is None:
            problems.append(f"{name}, cell {i}: not executed")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{name}, cell {i}: error {out.get('ename')}: {out.get('evalue')}")
            data = out.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view and view.get("model_id") not in widgets:
                problems.append(f"{name}, cell {i}: a widget without stored state")
            text = _text(out.get("text")) + _text(data.get("text/plain"))
            if not view and WIDGET_TEXT.search(text):
                problems.append(f"{name}, cell {i}: raw widget text")
            if not allow_cpu and not view:
                for line in text.splitlines():
                    if re.search(r"\| CPU \(.*\) \| \d+ epochs in ", line):
                        problems.append(f"{name}, cell {i}: trained on a CPU: {line[:80]}")
                        break
    if here is None:
        problems.append(f"{name}: no chapter at that path here")
    elif cells_of(json.loads(here.read_text())) != cells_of(nb):
        problems.append(f"{name}: the chapter here has changed since the run (run it again)")
    return problems


def _on_cpu(device: Any) -> bool:
    return str(device).startswith("CPU")


def check_result(
    name: str, raw: bytes, steps: dict[str, Any], *, allow_cpu: bool, partial: bool
) -> list[str]:
    """What is wrong with a result JSON (a sweep's or the timm comparison's)."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        return [f"{name}: not JSON ({exc})"]
    problems = []
    if not allow_cpu and not name.endswith("-cuda.json"):
        problems.append(f"{name}: not a GPU result (the name ends in -cuda.json)")
    devices = doc.get("environment", {}).get("devices", [])
    if not devices or (not allow_cpu and any(_on_cpu(d) for d in devices)):
        problems.append(f"{name}: made on {devices}, not a GPU")
    if "runs" in doc:
        if doc.get("schema") != SCHEMA:
            problems.append(f"{name}: schema {doc.get('schema')!r}, expected {SCHEMA}")
        if not doc["runs"]:
            problems.append(f"{name}: no runs")
        for r in doc["runs"]:
            if not {"name", "seed", "final_acc", "train_ips", "device"} <= set(r):
                problems.append(f"{name}: a run without the sweep's fields")
                break
            if not allow_cpu and _on_cpu(r["device"]):
                problems.append(f"{name}: {r['name']} seed {r['seed']} ran on {r['device']}")
        sweeps = {k: v for k, v in steps.items() if k.startswith("sweep")}
        unfinished = [k for k, v in sweeps.items() if v.get("status") != "done"]
        if unfinished and not partial:
            problems.append(f"{name}: unfinished ({', '.join(unfinished)}); --partial takes it")
    elif "rows" in doc:
        if not doc["rows"]:
            problems.append(f"{name}: no rows")
        for r in doc["rows"]:
            if not {"name", "ratio", "train_ours", "train_timm", "device"} <= set(r):
                problems.append(f"{name}: a row without the timm comparison's fields")
                break
            if not allow_cpu and _on_cpu(r["device"]):
                problems.append(f"{name}: {r['name']} timed on {r['device']}")
    else:
        problems.append(f"{name}: neither a sweep (runs) nor a timm comparison (rows)")
    return problems


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def collect(
    source: Path,
    root: Path = ROOT,
    *,
    allow_cpu: bool = False,
    allow_smoke: bool = False,
    partial: bool = False,
    dry_run: bool = False,
) -> tuple[list[Path], list[str]]:
    """Check every file in the run's zip, then (all fine, not a dry run) write them in place.
    Returns the paths written (or that would be) and the problems found."""
    path = source / "gpu-run.zip" if source.is_dir() else source
    if not path.is_file():
        return [], [f"no {path}"]
    plan: list[tuple[Path, bytes]] = []
    problems: list[str] = []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        steps = json.loads(z.read("state.json")).get("steps", {}) if "state.json" in names else {}
        for name in sorted(names):
            if name.startswith("products/notebooks/") and name.endswith(".ipynb"):
                target = root / "chapters" / name.removeprefix("products/notebooks/")
                raw = z.read(name)
                problems += check_notebook(
                    name,
                    raw,
                    target if target.is_file() else None,
                    allow_cpu=allow_cpu,
                    allow_smoke=allow_smoke,
                )
                plan.append((target, raw))
            elif name.startswith("products/results/") and name.endswith(".json"):
                target = root / "chapters" / "results" / Path(name).name
                raw = z.read(name)
                problems += check_result(name, raw, steps, allow_cpu=allow_cpu, partial=partial)
                plan.append((target, raw))
    if not plan:
        problems.append(f"{path}: no notebooks or results in it")
    if problems or dry_run:
        return [t for t, _ in plan], problems
    for target, raw in plan:
        write_atomic(target, raw)
    return [t for t, _ in plan], []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python scripts/gpu_collect.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files_at", help="the folder holding gpu-run.zip (or the zip)")
    p.add_argument("--root", default=str(ROOT), help="the repository (default: this one)")
    p.add_argument("--allow-cpu", action="store_true", help="accept results made on a CPU")
    p.add_argument("--allow-smoke", action="store_true", help="accept smoke-profile notebooks")
    p.add_argument("--partial", action="store_true", help="accept a sweep with seeds missing")
    p.add_argument("--dry-run", action="store_true", help="check and list; write nothing")
    a = p.parse_args(argv)
    source = Path(a.files_at)
    summary = source / "summary.md" if source.is_dir() else None
    if summary and summary.is_file():
        print(summary.read_text())
    written, problems = collect(
        source,
        Path(a.root),
        allow_cpu=a.allow_cpu,
        allow_smoke=a.allow_smoke,
        partial=a.partial,
        dry_run=a.dry_run,
    )
    if problems:
        print("Nothing written; fix these first:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    verb = "would write" if a.dry_run else "wrote"
    for t in written:
        print(f"{verb} {t.relative_to(Path(a.root)) if t.is_relative_to(a.root) else t}")
    if not a.dry_run:
        print("Look at them (git diff --stat; the book: make book), then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
