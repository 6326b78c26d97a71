"""Here, before a GPU call: assemble the carried folder `gpu/` and check that the tree fits.

    python3 scripts/gpu_prepare.py                          # make gpu-prepare
    python3 scripts/gpu_prepare.py --resume-from FILES_AT   # make gpu-prepare FROM=FILES_AT

`gpu/` (ignored by git, so it travels only when the device call names it in `carry`) gets:

- `wheels/`: the Jupyter wheels the GPU machine lacks (nbclient, ipykernel, ipywidgets and what
  they need, for Python 3.12 on x86-64), from `../shared/gpu/wheels`. attncv's own dependencies
  (torch, torchvision, numpy, matplotlib, tqdm) and timm are already on that machine.
- `data/cifar-10-batches-py/`: the real offline CIFAR-10 subset, from `../shared/data`.
- `COMMIT`: this checkout's commit and whether it has changes, for the results' provenance (the
  tree travels without `.git`).
- `resume/gpu-run.zip` with `--resume-from`: an earlier call's results, so that a call on a cold
  machine skips what that call finished. Without it, an old `resume/` is removed.

Then it adds up what travels (tracked and untracked files that git does not ignore, plus `gpu/`)
against the device tool's 64 MiB, and prints the command to run there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 64 * 2**20
COMMAND = "python3 scripts/gpu_run.py"  # = make gpu, without needing make there


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def checkout_bytes() -> int:
    """What the device tool sends besides the carried paths: tracked files, and untracked ones
    that git does not ignore."""
    names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return sum((ROOT / n).stat().st_size for n in names if n and (ROOT / n).is_file())


def sync(src: Path, dst: Path, pattern: str = "*") -> int:
    """Copy ``src``'s files matching ``pattern`` to ``dst``, which ends up holding only them."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    files = sorted(p for p in src.glob(pattern) if p.is_file())
    for f in files:
        shutil.copyfile(f, dst / f.name)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python3 scripts/gpu_prepare.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--shared", default=str(ROOT.parent / "shared"), help="default ../shared")
    p.add_argument("--carry", default=str(ROOT / "gpu"), help="the folder to fill (default gpu/)")
    p.add_argument(
        "--resume-from",
        default=None,
        help="an earlier call's files (the folder holding gpu-run.zip, or the zip)",
    )
    args = p.parse_args(argv)
    shared, carry = Path(args.shared), Path(args.carry)

    carry.mkdir(parents=True, exist_ok=True)
    check = ["git", "check-ignore", "-q", f"{carry}/"]
    ignored = subprocess.run(check, cwd=ROOT).returncode == 0
    if not ignored:
        print(
            f"error: {carry} is not ignored by git: it would travel twice (add it to "
            ".git/info/exclude)",
            file=sys.stderr,
        )
        return 2
    wheels, data = shared / "gpu" / "wheels", shared / "data" / "cifar-10-batches-py"
    for needed in (wheels, data):
        if not needed.is_dir():
            print(f"error: {needed} is missing", file=sys.stderr)
            return 2

    n = sync(wheels, carry / "wheels", "*.whl")
    print(f"{carry / 'wheels'}: {n} wheels, {mib(size(carry / 'wheels'))}")
    sync(data, carry / "data" / "cifar-10-batches-py")
    if (shared / "data" / "README.md").is_file():
        shutil.copyfile(shared / "data" / "README.md", carry / "data" / "README.md")
    print(f"{carry / 'data'}: {mib(size(carry / 'data'))}")

    commit = git("rev-parse", "HEAD").strip()
    dirty = bool(git("status", "--porcelain").strip())
    (carry / "COMMIT").write_text(
        json.dumps(
            {"commit": commit, "dirty": dirty, "prepared": time.strftime("%FT%TZ", time.gmtime())}
        )
        + "\n"
    )
    print(f"{carry / 'COMMIT'}: {commit[:10]}{' (with uncommitted changes)' if dirty else ''}")

    resume = carry / "resume"
    if resume.exists():
        shutil.rmtree(resume)
    if args.resume_from:
        src = Path(args.resume_from)
        src = src / "gpu-run.zip" if src.is_dir() else src
        if not src.is_file():
            print(f"error: no {src}", file=sys.stderr)
            return 2
        resume.mkdir()
        shutil.copyfile(src, resume / "gpu-run.zip")
        print(f"{resume / 'gpu-run.zip'}: {mib(size(resume))} (the call resumes from it)")

    tree, carried = checkout_bytes(), size(carry)
    total = tree + carried
    print(
        f"travels: checkout {mib(tree)} + {carry.name}/ {mib(carried)} = {mib(total)} of "
        f"{mib(LIMIT)}"
    )
    if total > LIMIT:
        print(
            "error: over the device tool's limit: leave the resume zip out, or slim the "
            "committed notebooks' outputs",
            file=sys.stderr,
        )
        return 1
    rel = carry.relative_to(ROOT) if carry.is_relative_to(ROOT) else carry
    print(
        f"\nOn the GPU machine (device tool run): command {COMMAND!r}, carry [{str(rel)!r}], "
        "timeout_s 600.\nThen, here: make gpu-collect FROM=<files_at>"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
