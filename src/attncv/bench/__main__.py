"""The benchmark's one command line: ``python -m attncv.bench <command>``.

    python -m attncv.bench train                 the baseline's brief training loop: images/s
    python -m attncv.bench modules [--names se]  every registry module against the baseline
    python -m attncv.bench paths                 fused against reference position attention
    python -m attncv.bench sweep --recipe fast   the benchmark table (accuracy, over seeds)
    python -m attncv.bench timm                  training speed against timm's modules

These are benchmarks, not tests: they print what this machine measured and assert nothing.

The course's performance targets, for a GPU run (H100 or H200, bf16, channels_last); the book
reports measurements, these are what the measurements are held against:
  - the baseline's brief CIFAR training: at least 30,000 training images/s; an epoch of the
    50,000 CIFAR-100 training images in under 2 s (train);
  - SE and ECA within 10% of the baseline's training images/s, SK within 2.5x (modules);
  - every module with a timm twin at least 1.0x timm's training images/s in the same network,
    the non-local block at least 2x (timm); where the ceiling (baseline / timm) is below a
    target, the target holds for the module alone (the block ratio);
  - the fused position-attention path at least 2x faster than the reference path (paths).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..attention import registry
from ..data import DataError
from ..env import default_device
from ..train import RECIPES
from . import modules, paths, sweep, timm
from .provenance import environment
from .report import format_table, provenance


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one subcommand per benchmark."""
    p = argparse.ArgumentParser(
        prog="python -m attncv.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="images/s of the baseline's training loop")
    train.add_argument("--profile", default="brief", help="smoke, brief or full")
    train.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    train.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")

    mods = sub.add_parser("modules", help="cost of every registry module vs the baseline")
    mods.add_argument("--names", nargs="*", help=f"modules (default: all of {registry.names()})")
    mods.add_argument("--batch-size", type=int, default=None)
    mods.add_argument("--steps", type=int, default=None)
    mods.add_argument("--width", type=int, default=None, help="ResNet width for throughput")
    mods.add_argument("--device", default=None)

    pth = sub.add_parser("paths", help="fused vs reference position attention: time, memory")
    pth.add_argument("--names", nargs="*", default=list(paths.MODULES), choices=paths.MODULES)
    pth.add_argument("--channels", type=int, default=64)
    pth.add_argument("--size", type=int, default=32, help="height = width of the feature map")
    pth.add_argument("--batch-size", type=int, default=None)
    pth.add_argument("--steps", type=int, default=None)
    pth.add_argument("--device", default=None)

    _sweep_arguments(
        sub.add_parser("sweep", help="train every registry module under one recipe; JSON")
    )

    tmm = sub.add_parser("timm", help="training speed of our modules vs timm's (ours/theirs)")
    tmm.add_argument(
        "--names", nargs="*", help=f"modules (default: all of {sorted(timm.TIMM_TWINS)} registered)"
    )
    tmm.add_argument("--batch-size", type=int, default=None)
    tmm.add_argument("--steps", type=int, default=None)
    tmm.add_argument("--repeats", type=int, default=3)
    tmm.add_argument("--width", type=int, default=None)
    tmm.add_argument("--device", default=None)
    tmm.add_argument("--out", default=None, help="write the rows and environment as JSON here")
    return p


def _sweep_arguments(swp: argparse.ArgumentParser) -> None:
    """The sweep subcommand's options: what it trains, at what scale, and where it writes."""
    swp.add_argument("--recipe", default="fast", choices=sorted(RECIPES))
    swp.add_argument(
        "--profile",
        default=None,
        help="smoke, brief or full (default $ATTNCV_PROFILE or brief; on a GPU brief = full data)",
    )
    swp.add_argument("--names", nargs="*", help=f"modules (default: all of {registry.names()})")
    swp.add_argument("--seeds", nargs="+", type=int, default=[0])
    swp.add_argument(
        "--devices",
        default=None,
        help="cuda:0,cuda:1 | all | a count of GPUs | cpu,cpu (default: the first GPU, else the "
        "CPU); more than one trains one run per device at a time on Ray (attncv[cluster])",
    )
    swp.add_argument(
        "--address",
        default=None,
        help="join this Ray cluster (auto, or ray://host:port) and train one run per GPU there "
        "(--devices cpu: per CPU); see the README's benchmark section",
    )
    swp.add_argument(
        "--retries",
        type=int,
        default=3,
        help="on Ray: how often a run whose worker died is started again (default 3)",
    )
    swp.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    swp.add_argument("--train-size", type=int, default=None, help="override: training images")
    swp.add_argument("--test-size", type=int, default=None, help="override: test images")
    swp.add_argument("--width", type=int, default=None, help="override: ResNet-18 width")
    swp.add_argument(
        "--cost-steps",
        type=int,
        default=None,
        help="steps timed for inference speed and peak memory (default: 50 on a GPU, 5 on a CPU)",
    )
    swp.add_argument("--compile", action="store_true", help="train with torch.compile")
    swp.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out (same recipe and scale) and train only "
        "the missing ones",
    )
    swp.add_argument("--cache", action="store_true", help="reuse identical cached runs")
    swp.add_argument("--data-dir", default=None, help="folder with cifar-100-python/")
    swp.add_argument(
        "--out",
        default=None,
        help="write the JSON here (the book reads "
        "chapters/results/benchmark-<recipe>-<cpu|cuda>.json)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, ImportError, OSError, DataError) as exc:  # expected: one line
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The error's message on one line (an OSError's path included)."""
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in str(exc):
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _run(args: argparse.Namespace) -> int:
    options = {k: v for k, v in vars(args).items() if k not in ("command", "out")}
    if args.command == "train":
        modules.bench_train(args.profile, args.epochs, args.device)
    elif args.command == "modules":
        modules.compare_modules(**options)
    elif args.command == "paths":
        paths.compare_paths(**options)
    elif args.command == "sweep":
        return _sweep(options, args.out)
    else:
        rows = timm.compare(**options)
        if args.out:
            path = Path(args.out)
            path.parent.mkdir(parents=True, exist_ok=True)
            device = args.device or ("cuda:0" if default_device() == "cuda" else "cpu")
            document = {"environment": environment([device]), "rows": rows}
            path.write_text(json.dumps(document, indent=1) + "\n")
            print(f"Wrote {path}")
    return 0


def _sweep(options: dict, out: str | None) -> int:
    """The sweep and its table; exit status 1 if a run failed (on Ray the others go on), 130
    if the sweep was interrupted (its finished runs are in ``--out``: ``--resume`` goes on)."""
    try:
        result = sweep.sweep(**options, out=out)
    except KeyboardInterrupt:
        kept = f"the finished runs are in {out}; rerun with --resume" if out else "no --out"
        print(f"Sweep interrupted: {kept}.", file=sys.stderr)
        return 130
    if result.runs:
        print(provenance(result, commits=True), format_table(result), sep="\n\n")
    if result.failed:
        names = ", ".join(f"{f['name']} seed {f['seed']}" for f in result.failed)
        print(f"error: {len(result.failed)} runs failed: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
