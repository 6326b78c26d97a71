"""The summary of a run, as a dict (``summary.json``) and as Markdown (``summary.md``): each step's
status, seconds and estimate; each notebook's test accuracies; each module's sweep and timm
numbers; what is not done and why.

The accuracies come from one place, ``accuracy_lines``: a trained run's JSON record
(``application/vnd.attncv.run+json``, which ``fit`` stores beside its log in a notebook's output),
and, for what carries no record (a run loaded from the runs cache, a notebook executed before
runs carried records), the text that ``FitResult.summary()`` and the runs cache print."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clock import elapsed, now
from .plan import Step

if TYPE_CHECKING:
    from .run import Run

# FitResult.summary(), three lines: "name: test accuracy A% (best B%) after N epochs",
# "  S s of training (I images/s) on DEVICE", "  data: DATASET" (tests/scripts/test_gpu_run.py
# checks this against attncv.train.FitResult).
SUMMARY_LINE = re.compile(
    r"^(?P<name>[^\n:]+?): test accuracy (?P<accuracy>[\d.]+|nan)% \(best (?P<best>[\d.]+|nan)%\)"
    r" after (?P<epochs>\d+) epochs?\n  (?P<seconds>[\d.]+) s of training "
    r"\((?P<images_per_second>[\d,]+) images/s\) on (?P<device>[^\n]+)\n  data: (?P<dataset>.+)",
    re.M,
)

# attncv.train.result.RUN_MIME (tests/scripts/test_gpu_run.py keeps them equal; this package runs
# without attncv installed, so it cannot import it).
RUN_MIME = "application/vnd.attncv.run+json"
RECORD_KEYS = ("name", "device", "epochs", "seconds", "images_per_second")

# attncv.train.runs.cached_line: a run loaded from the runs cache, one line.
CACHED_LINE = re.compile(
    r"^(?P<name>[^\n:]+?): test accuracy (?P<accuracy>[\d.]+|nan)% after (?P<epochs>\d+) "
    r"epochs?, loaded from the runs cache",
    re.M,
)


def accuracy_lines(notebook: Path) -> list[dict[str, Any]]:
    """Every run in a notebook's outputs, each once: from its record where it has one, else
    parsed from the FitResult summary or cached-run line it printed."""
    nb = json.loads(notebook.read_text())
    seen, found = set(), []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            record = out.get("data", {}).get(RUN_MIME)
            if record is not None:
                row = {k: record[k] for k in RECORD_KEYS}
                row["test_accuracy"] = record["test_accuracy"]
                row["best_accuracy"] = record["best_accuracy"]
                if row not in found:
                    found.append(row)
                continue
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            plain = out.get("data", {}).get("text/plain", "")
            text += "\n" + ("".join(plain) if isinstance(plain, list) else plain)
            for m in SUMMARY_LINE.finditer(text):
                if m.group(0) in seen:
                    continue
                seen.add(m.group(0))
                row = m.groupdict()
                found.append(
                    {
                        "name": row["name"].strip(),
                        "device": row["device"].strip(),
                        "epochs": int(row["epochs"]),
                        "seconds": float(row["seconds"]),
                        "images_per_second": float(row["images_per_second"].replace(",", "")),
                        "test_accuracy": float(row["accuracy"]) / 100,
                        "best_accuracy": float(row["best"]) / 100,
                    }
                )
            for m in CACHED_LINE.finditer(text):
                name = m.group("name").strip()
                if m.group(0) in seen or any(r["name"] == name for r in found):
                    continue
                seen.add(m.group(0))
                found.append(
                    {
                        "name": name,
                        "epochs": int(m.group("epochs")),
                        "test_accuracy": float(m.group("accuracy")) / 100,
                        "cached": True,
                    }
                )
    return found


def module_rows(sweep: Path | None, timm: Path | None) -> list[dict[str, Any]]:
    """Per module: the sweep's training images/s (fastest seed) and accuracy (mean over seeds),
    and ours / timm's training images/s from the timm comparison."""
    runs = json.loads(sweep.read_text()).get("runs", []) if sweep and sweep.is_file() else []
    twins = (
        {r["name"]: r for r in json.loads(timm.read_text()).get("rows", [])}
        if (timm and timm.is_file())
        else {}
    )
    names = list(dict.fromkeys([r["name"] for r in runs] + list(twins)))
    rows = []
    for name in names:
        mine = [r for r in runs if r["name"] == name]
        twin = twins.get(name, {})
        rows.append(
            {
                "name": name,
                "seeds": sorted(r["seed"] for r in mine),
                "final_acc": statistics.mean(r["final_acc"] for r in mine) if mine else None,
                "train_ips": max(r["train_ips"] for r in mine) if mine else None,
                "timm_ratio": twin.get("ratio"),
                "timm_train_ips": twin.get("train_timm"),
                "timm_precision": twin.get("precision"),
            }
        )
    return rows


def make_summary(run: Run, steps: list[Step]) -> dict[str, Any]:
    states = run.state["steps"]
    rows = []
    for step in steps:
        entry = states.get(step.id, {})
        rows.append(
            {
                "step": step.id,
                "status": entry.get("status", "not started"),
                "seconds": round(entry["seconds"], 1) if entry.get("seconds") else None,
                "estimate": step.estimate,
                "note": entry.get("note", ""),
            }
        )
    notebooks = []
    for step in steps:
        if step.kind != "notebook":
            continue
        assert step.notebook
        path = run.notebook_path(step.notebook)
        entry = states.get(step.id, {})
        notebooks.append(
            {
                "notebook": step.notebook,
                "status": entry.get("status", "not started"),
                "seconds": round(entry["seconds"], 1) if entry.get("seconds") else None,
                "accuracy": accuracy_lines(path) if path.is_file() else [],
            }
        )
    complete = all(states.get(s.id, {}).get("status") == "done" for s in steps)
    return {
        "complete": complete,
        "profile": run.args.profile,
        "device": run.info.get("device"),
        "versions": {k: run.info.get(k) for k in ("python", "torch", "timm", "nbclient")},
        "commit": run.env.get("ATTNCV_GIT_COMMIT"),
        "budget_seconds": run.budget,
        "call": len(run.state.get("calls", [])),
        "call_seconds": round(elapsed(), 1),
        "estimate_factor": round(run.factor(), 2),
        "steps": rows,
        "notebooks": notebooks,
        "modules": module_rows(run.sweep_path(), run.timm_path()),
        "not_done": [
            r["step"] + (f": {r['note']}" if r["note"] else "")
            for r in rows
            if r["status"] != "done"
        ],
        "notes": run.notes,
        "written": now(),
    }


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def summary_markdown(s: dict[str, Any]) -> str:
    out = [
        f"# GPU run: {'complete' if s['complete'] else 'partial'}",
        "",
        f"Device: {s['device']}; profile {s['profile']}; call {s['call']} took "
        f"{s['call_seconds']} s of a {s['budget_seconds']:.0f} s budget; measured / estimated "
        f"time so far: x{s['estimate_factor']}.",
        "",
        "| step | status | seconds | estimate | note |",
        "|---|---|---:|---:|---|",
    ]
    for r in s["steps"]:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        out.append(f"| {r['step']} | {r['status']} | {secs} | {r['estimate']:.0f} | {r['note']} |")
    out += ["", "## Notebooks", "", "| notebook | status | seconds | test accuracy |"]
    out.append("|---|---|---:|---|")
    for nb in s["notebooks"]:
        accs = "; ".join(
            f"{a['name']} {_pct(a['test_accuracy'])} "
            + (
                "(from the runs cache)"
                if a.get("cached")
                else f"({a['images_per_second']:,.0f} img/s, {a['device']})"
            )
            for a in nb["accuracy"]
        )
        secs = "" if nb["seconds"] is None else f"{nb['seconds']:.1f}"
        out.append(f"| {nb['notebook']} | {nb['status']} | {secs} | {accs} |")
    out += ["", "## Modules (fast sweep, timm comparison)", ""]
    out += ["| module | seeds | final acc. | train img/s | ours / timm | timm img/s |"]
    out.append("|---|---|---:|---:|---:|---:|")
    for m in s["modules"]:
        ips = "" if m["train_ips"] is None else f"{m['train_ips']:,.0f}"
        ratio = "" if m["timm_ratio"] is None else f"{m['timm_ratio']:.2f}"
        theirs = "" if m["timm_train_ips"] is None else f"{m['timm_train_ips']:,.0f}"
        seeds = " ".join(map(str, m["seeds"]))
        out.append(
            f"| {m['name']} | {seeds} | {_pct(m['final_acc'])} | {ips} | {ratio} | {theirs} |"
        )
    if s["not_done"]:
        out += ["", "## Not done", ""] + [f"- {x}" for x in s["not_done"]]
    if s["notes"]:
        out += ["", "## Notes", ""] + [f"- {x}" for x in s["notes"]]
    return "\n".join(out) + "\n"
