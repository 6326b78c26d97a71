"""The plan: the steps of a GPU run in the order they run, each with its estimated seconds and a
key (a digest of its inputs) that tells a later call whether its result still holds."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .files import digest, notebook_hash

# Seconds per step for the brief profile on an H100/H200 (bf16, channels_last): guesses made
# before any GPU run (the baseline's brief training at the course's target of ~30,000 images/s
# is ~7 s; kernel start, CUDA start, figures and throughput tables add ~15 s a notebook). The
# summary prints measured against estimated time; the run scales later estimates by what it saw.
NOTEBOOK_SECONDS = {
    "brief": {
        "baseline": 30,
        "explorers": 25,
        "self_attention": 35,
        "non_local": 35,
        "spatial_transformer": 40,
        "se": 25,
        "sk": 35,
        "eca": 35,
        "cbam": 70,  # two trainings: CIFAR and the canvases (also danet, coordinate)
        "danet": 45,
        "ccnet": 35,
        "residual_attention": 45,
        "coordinate_attention": 40,
        "benchmark": 20,
    },
    "smoke": {"benchmark": 300},  # a 2-core CPU: ~10-30 s a notebook; benchmark trains a sweep
}
DEFAULT_NOTEBOOK_SECONDS = {"brief": 40, "smoke": 25}
# The fast recipe (15 epochs of all 10,000 carried images at batch 512, plus 50 timed steps)
# per module, and a sweep process's start (imports, data onto the GPU).
SWEEP_SECONDS = {
    "brief": {
        "none": 8,
        "se": 9,
        "sk": 16,
        "eca": 9,
        "self_attention": 12,
        "non_local": 12,
        "stn": 10,
        "cbam": 11,
        "danet": 13,
        "ccnet": 14,
        "residual_attention": 22,
        "coordinate_attention": 10,
    },
    "smoke": {},
}
DEFAULT_SWEEP_SECONDS = {"brief": 12, "smoke": 4}
PROCESS_SECONDS = {"brief": 10, "smoke": 8}
TIMM_SECONDS = {"brief": 90, "smoke": 15}
REGISTRY = list(SWEEP_SECONDS["brief"])  # registry.names() (a test keeps them equal)

# Tiny sizes for the smoke rehearsal, so every step runs in seconds on a CPU.
SMOKE_SWEEP = ["--train-size", "100", "--test-size", "50", "--epochs", "1", "--cost-steps", "1"]
SMOKE_TIMM = ["--batch-size", "4", "--steps", "1", "--repeats", "1", "--width", "16"]

AFTER_RESULTS = ("benchmark",)  # notebooks that read the sweep and timm JSONs: run them last


@dataclass
class Step:
    """One unit of work; ``id`` is also its key in the state."""

    id: str
    kind: str  # "notebook", "sweep" or "timm"
    estimate: float  # seconds, before calibration
    first: float  # the least time worth starting with (a sweep keeps each finished run)
    key: str  # a digest of the step's inputs: a done step is redone when it changes
    needs: list[str] = field(default_factory=list)
    notebook: str | None = None  # path relative to the root
    seed: int | None = None


def discover_notebooks(root: Path) -> list[str]:
    """Every notebook under chapters/: the table of contents' order first, then the rest."""
    found = sorted(
        str(p.relative_to(root))
        for p in (root / "chapters").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    toc = root / "_toc.yml"
    order = re.findall(r"file:\s*(\S+)", toc.read_text()) if toc.exists() else []
    rank = {f"{f.removesuffix('.ipynb')}.ipynb": i for i, f in enumerate(order)}
    return sorted(found, key=lambda p: (rank.get(p, len(rank)), p))


def stem(notebook: str) -> str:
    return Path(notebook).stem


def plan(args: argparse.Namespace, root: Path) -> list[Step]:
    """The steps in the order they run: the baseline, the other chapters, the sweep seed by
    seed, timm, then the notebooks that read the sweep and timm results."""
    profile = args.profile
    notebooks = args.notebooks or discover_notebooks(root)
    notebooks = [str(Path(n)) for n in notebooks]
    for nb in notebooks:
        if not (root / nb).is_file():
            raise SystemExit(f"error: no notebook {nb} under {root}")
    later = [n for n in notebooks if stem(n) in args.after_results]
    first = [n for n in notebooks if n not in later]
    first.sort(key=lambda n: stem(n) != "baseline")  # the baseline first; otherwise toc order
    steps: list[Step] = []
    table, default = NOTEBOOK_SECONDS[profile], DEFAULT_NOTEBOOK_SECONDS[profile]
    for nb in first:
        estimate = table.get(stem(nb), default)
        steps.append(
            Step(f"notebook {nb}", "notebook", estimate, estimate, notebook_hash(root / nb), [], nb)
        )
    names = ["none", *[n for n in (args.names or REGISTRY) if n != "none"]]
    per_run, default_run = SWEEP_SECONDS[profile], DEFAULT_SWEEP_SECONDS[profile]
    run_seconds = sum(per_run.get(n, default_run) for n in names)
    start = PROCESS_SECONDS[profile]
    sweep_key = digest(json.dumps([profile, names, sweep_extra(args)]))
    for seed in args.seeds:
        steps.append(
            Step(
                f"sweep seed {seed}",
                "sweep",
                start + run_seconds,
                start + per_run.get("none", default_run),
                sweep_key,
                seed=seed,
            )
        )
    timm_key = digest(json.dumps([profile, args.timm_names, timm_extra(args)]))
    steps.append(Step("timm", "timm", TIMM_SECONDS[profile], TIMM_SECONDS[profile], timm_key))
    results = [s.id for s in steps if s.kind in ("sweep", "timm")]
    for nb in later:
        estimate = table.get(stem(nb), default)
        steps.append(
            Step(
                f"notebook {nb}",
                "notebook",
                estimate,
                estimate,
                notebook_hash(root / nb),
                results,
                nb,
            )
        )
    return steps


def sweep_extra(args: argparse.Namespace) -> list[str]:
    return (SMOKE_SWEEP if args.profile == "smoke" else []) + shlex.split(args.sweep_args)


def timm_extra(args: argparse.Namespace) -> list[str]:
    return (SMOKE_TIMM if args.profile == "smoke" else []) + shlex.split(args.timm_args)
