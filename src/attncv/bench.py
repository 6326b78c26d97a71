"""Speed and cost measurements, from the command line::

    python -m attncv.bench train                 # the baseline's brief training loop: images/s
    python -m attncv.bench modules [--names se]  # every registry module vs the baseline
    python -m attncv.bench sweep --recipe fast   # the benchmark table (attncv.sweep)
    python -m attncv.bench timm                  # training speed vs timm's modules

These are benchmarks, not tests: they print what this machine measured and assert nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import torch

from . import sweep, timm_compare
from .attention import registry
from .backbone import resnet18
from .cost import count_macs, count_params, throughput
from .data import load_cifar
from .profiles import get_profile
from .train import fit, set_seed


def bench_train(profile: str, epochs: int | None, device: str | None) -> None:
    """Train the baseline under a profile on real (or substitute) data; print images/s."""
    prof = get_profile(profile, device)
    print(prof)
    data = load_cifar(**prof.data_kwargs())
    set_seed(0)
    model = resnet18(data.num_classes, width=prof.width)
    overrides = {"epochs": epochs} if epochs else {}
    result = fit(model, data, prof.train, progress="log", **overrides)
    print(f"\nbaseline training loop: {result.images_per_second:,.0f} images/s on {result.device}"
          f" ({'bf16' if prof.device.startswith('cuda') else 'fp32'}), {result.train_seconds:.1f}"
          f" s of training, test accuracy {result.final_acc:.1%} on {result.dataset}")


def compare_modules(names: Sequence[str] | None = None, *, batch_size: int | None = None,
                    steps: int | None = None, width: int | None = None,
                    device: str | None = None) -> list[dict[str, object]]:
    """Print and return parameters and MACs (at the paper's width 64, 100 classes) and training /
    inference throughput (at ``width``) of ResNet-18 with each module, against the baseline.

    Defaults suit the device: on a GPU batch 256, 50 steps, width 64, bf16; on a CPU batch 32,
    10 steps, width 16, fp32.
    """
    gpu = (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    batch_size = batch_size or (256 if gpu else 32)
    steps = steps or (50 if gpu else 10)
    width = width or (64 if gpu else 16)
    names = list(names or registry.names())
    if "none" not in names:
        names.insert(0, "none")
    rows = []
    for name in names:
        set_seed(0)
        full = resnet18(100, attention=name)  # costs at the paper's width
        speed = throughput(resnet18(100, attention=name, width=width), batch_size=batch_size,
                           steps=steps, device=device)
        rows.append({"name": name, "params": count_params(full), "macs": count_macs(full),
                     "train": speed.train, "infer": speed.infer, "peak_mb": speed.peak_memory_mb,
                     "device": speed.device, "amp": speed.amp,
                     "precision": speed.precision})
    base = rows[0]
    print(f"ResNet-18 (100 classes) on {base['device']}, batch {batch_size}, "
          f"{base['precision']}, throughput at width {width}")
    print(f"{'module':<12}{'params':>12}{'x':>7}{'MACs (G)':>10}{'x':>7}{'train img/s':>13}"
          f"{'x':>7}{'infer img/s':>13}{'peak MB':>9}")
    for r in rows:
        print(f"{r['name']:<12}{r['params']:>12,}{r['params'] / base['params']:>7.3f}"
              f"{r['macs'] / 1e9:>10.3f}{r['macs'] / base['macs']:>7.3f}{r['train']:>13,.0f}"
              f"{r['train'] / base['train']:>7.2f}{r['infer']:>13,.0f}{r['peak_mb']:>9.0f}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attncv.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="images/s of the baseline's training loop")
    p_train.add_argument("--profile", default="brief", help="smoke, brief or full")
    p_train.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    p_train.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    p_mod = sub.add_parser("modules", help="cost of every registry module vs the baseline")
    p_mod.add_argument("--names", nargs="*", help=f"modules (default: all of {registry.names()})")
    p_mod.add_argument("--batch-size", type=int, default=None)
    p_mod.add_argument("--steps", type=int, default=None)
    p_mod.add_argument("--width", type=int, default=None, help="ResNet width for throughput")
    p_mod.add_argument("--device", default=None)
    sweep.add_parser(sub)
    timm_compare.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "train":
        bench_train(args.profile, args.epochs, args.device)
    elif args.command in ("sweep", "timm"):
        return args.run(args)
    else:
        for name in args.names or []:
            registry.entry(name)  # unknown names fail before any measuring
        compare_modules(args.names, batch_size=args.batch_size, steps=args.steps,
                        width=args.width, device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
