"""The command line: its options, and ``main``, which plans the steps, sets the machine up, runs
what fits in the budget and hands back the exit status (or, with ``--plan``, lists the steps)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from . import __doc__ as OVERVIEW
from .clock import elapsed
from .install import set_up
from .notebook import execute_notebook
from .plan import AFTER_RESULTS, plan
from .proc import stop_tree
from .run import Run

ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 scripts/gpu_run.py",
        description=OVERVIEW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", default="brief", choices=["brief", "smoke"])
    p.add_argument(
        "--budget",
        type=float,
        default=540,
        help="seconds this call may take, from its start; no step starts that would not end "
        "inside it (default 540, for a 600 s limit)",
    )
    p.add_argument(
        "--out", default=None, help="where the results go (default $OUT, else .gpu-run/out)"
    )
    p.add_argument(
        "--state", default=str(ROOT / ".gpu-run"), help="kept between calls (default .gpu-run/)"
    )
    p.add_argument(
        "--carry",
        default=str(ROOT / "gpu"),
        help="the carried folder: wheels/, data/, COMMIT, resume/ (default gpu/)",
    )
    p.add_argument(
        "--resume-from",
        default=None,
        help="a previous call's gpu-run.zip (or its "
        "folder); default gpu/resume/gpu-run.zip where present",
    )
    p.add_argument("--notebooks", nargs="*", help="default: every notebook under chapters/")
    p.add_argument("--names", nargs="*", help="the sweep's modules (default: all registered)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--timm-names", nargs="*", help="modules compared with timm (default: all)")
    p.add_argument(
        "--sweep-args",
        default="",
        help='more arguments for python -m attncv.bench sweep, e.g. "--cost-steps 20"',
    )
    p.add_argument("--timm-args", default="", help="more arguments for python -m attncv.bench timm")
    p.add_argument(
        "--after-results",
        nargs="*",
        default=list(AFTER_RESULTS),
        help="notebooks (by name) that read the sweep and timm results, run after them "
        f"(default: {' '.join(AFTER_RESULTS)})",
    )
    p.add_argument("--fresh", action="store_true", help="forget earlier calls and start over")
    p.add_argument("--retry-failed", action="store_true", help="run failed steps again")
    p.add_argument("--plan", action="store_true", help="print the steps and estimates; run none")
    p.add_argument(
        "--cpu-ok", action="store_true", help="allow the brief profile without a GPU (slow)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_notebook"]:
        return execute_notebook(argv[1:])
    args = parser().parse_args(argv)
    args.out = args.out or os.environ.get("OUT") or str(Path(args.state) / "out")
    root = ROOT
    steps = plan(args, root)
    run = Run(args, root)
    if args.plan:
        known = json.loads(run.state_path.read_text()) if run.state_path.exists() else {}
        total = sum(s.estimate for s in steps)
        for s in steps:
            entry = known.get("steps", {}).get(s.id, {})
            status = entry.get("status", "") if entry.get("key") == s.key else "to do"
            print(f"{s.estimate:6.0f} s  {s.id:55s} {status}")
        print(
            f"{total:6.0f} s  in all (estimates for the {args.profile} profile; "
            f"budget {args.budget:.0f} s a call)"
        )
        return 0
    run.log(f"gpu_run: profile {args.profile}, budget {args.budget:.0f} s, out {run.out}")
    code = set_up(run)
    if code is not None:
        run.copy_log()
        return code
    run.load_state()
    total = sum(s.estimate for s in steps)
    run.log(f"{len(steps)} steps, ~{total:.0f} s estimated in all (x{run.factor():.2f} so far)")

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        code = run.run(steps)
    except KeyboardInterrupt:
        if run.current is not None:
            stop_tree(run.current)
        if run.running is not None:
            run.record(run.running, status="stopped", note="interrupted")
        run.log("interrupted: the summary holds what was finished")
        run.finish(steps)
        code = 3
    meaning = {0: "all done", 1: "a step failed", 3: "more to do: call again"}[code]
    run.log(f"finished this call in {elapsed():.1f} s: exit {code} ({meaning})")
    run.copy_log()
    return code
