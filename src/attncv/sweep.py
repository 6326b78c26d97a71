"""The benchmark sweep: ResNet-18 with every registered attention module, and the baseline, trained
under one recipe on the same data, with the same seeds and schedule, into one JSON file.

Two recipes (:data:`RECIPES`):

- ``seed``: the course notes' experiment as their published code runs it: SGD 0.1, momentum 0.9,
  weight decay 1e-4, batch 128, 160 epochs, steps to 0.01 and 0.001 at epochs 80 and 120, and a
  real one-epoch linear warm-up (the published code defines one but never runs it);
- ``fast``: a modern short schedule: 15 epochs, batch 512, linear warm-up then linear decay
  (one-cycle), label smoothing 0.1, bf16 and channels_last on a GPU, data on the GPU.

The measure of a run is the mean test accuracy of its best five epochs (the notes' measure); the
final epoch's accuracy is kept beside it. ``--devices cuda:0,cuda:1`` trains one run per GPU at a
time with :mod:`torch.multiprocessing`; results carry their provenance (recipe, data, device,
library versions, git commit), so a committed table always says where it came from.
"""

from __future__ import annotations

import json
import os
import platform
import queue as queue_module
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from .attention import registry
from .backbone import resnet18
from .cost import count_macs, count_params, throughput
from .data import CifarData, load_cifar
from .profiles import SEED_RECIPE, Profile, get_profile
from .runs import train_model
from .train import TrainConfig

SCHEMA = 1


@dataclass(frozen=True)
class Recipe:
    """A named training recipe and what it stands for."""

    name: str
    train: TrainConfig
    note: str
    measure: str = "best5_acc"  # what ranks runs: "best5_acc" or "final_acc"


FAST = TrainConfig(
    epochs=15,
    batch_size=512,
    lr=0.4,
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    schedule="onecycle",
    warmup_epochs=3,
    label_smoothing=0.1,
)
RECIPES = {
    "seed": Recipe(
        "seed",
        SEED_RECIPE,
        "The notes' recipe (He et al. 2016 on CIFAR): SGD 0.1, momentum 0.9, weight "
        "decay 1e-4, batch 128, 160 epochs, steps x0.1 at epochs 80 and 120, one "
        "warm-up epoch; measure: mean of the best 5 epochs.",
    ),
    "fast": Recipe(
        "fast",
        FAST,
        "A modern short schedule: 15 epochs, batch 512, Nesterov SGD peaking at 0.4 "
        "after 3 warm-up epochs, then linear decay to 0 (one-cycle), weight decay 5e-4, "
        "label smoothing 0.1; bf16 and channels_last on a GPU. Measure: the final epoch "
        "(one-cycle ends at its best; its best five epochs include some at a high rate).",
        "final_acc",
    ),
}


@dataclass(frozen=True)
class Scale:
    """How much of the recipe a sweep runs: data, network width, epochs, batch."""

    train_size: int | None  # None: the whole training split
    test_size: int | None
    width: int
    train: TrainConfig
    note: str = ""


def shrink(cfg: TrainConfig, epochs: int, batch_size: int | None = None) -> TrainConfig:
    """``cfg`` run for ``epochs`` (milestones and warm-up scaled with them) at ``batch_size``
    (learning rate scaled linearly)."""
    f = epochs / cfg.epochs
    batch = batch_size or cfg.batch_size
    return replace(
        cfg,
        epochs=epochs,
        batch_size=batch,
        lr=cfg.lr * batch / cfg.batch_size,
        warmup_epochs=cfg.warmup_epochs * f,
        milestones=tuple(max(1, round(m * f)) for m in cfg.milestones),
    )


def scale_for(
    recipe: Recipe,
    profile: Profile,
    epochs: int | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    width: int | None = None,
) -> Scale:
    """The sweep's size under a profile: ``full`` and ``brief`` on a GPU run the recipe on the whole
    dataset at width 64; ``brief`` on a CPU and ``smoke`` take the profile's data and width, its
    epochs and (for small data) batch 128 at a linearly scaled learning rate. The other arguments
    override; the note says what differs from the recipe."""
    cfg = recipe.train
    if profile.name == "full" or (profile.name == "brief" and profile.device.startswith("cuda")):
        train, sizes = (shrink(cfg, epochs) if epochs else cfg), (None, None, 64)
    else:
        batch = min(cfg.batch_size, profile.train.batch_size)
        train = shrink(cfg, epochs or profile.train.epochs, batch)
        sizes = (profile.train_size, profile.test_size, profile.width)
        if profile.name == "smoke":  # a dozen networks in CI: half the smoke data each
            sizes = (profile.train_size // 2, profile.test_size // 2, profile.width)
    given = (train_size, test_size, width)
    n_train, n_test, w = (g if g is not None else s for g, s in zip(given, sizes, strict=True))
    if (n_train, n_test, w, train) == (None, None, 64, cfg):
        return Scale(None, None, 64, cfg)
    size = "all" if n_train is None else f"{n_train:,}"
    return Scale(
        n_train,
        n_test,
        w,
        train,
        f"Shrunk from the recipe ({profile.name} profile on {profile.device}): {size} training "
        f"images, width {w}, {train.epochs} of {cfg.epochs} epochs, batch {train.batch_size} "
        f"at learning rate {train.lr:g} (scaled linearly), milestones and warm-up scaled with "
        "the epochs.",
    )


@dataclass
class Sweep:
    """A sweep's runs and where they came from; saved as JSON by :meth:`save`."""

    recipe: dict[str, Any]
    scale: dict[str, Any]
    data: str
    environment: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    schema: int = SCHEMA

    def names(self) -> list[str]:
        """Modules in the sweep, baseline first, in registry order (unknown names last)."""
        known = registry.names()
        found = {r["name"] for r in self.runs}
        return sorted(found, key=lambda n: known.index(n) if n in known else len(known))

    def missing(self) -> list[str]:
        """Registered modules this sweep did not train (it predates them)."""
        return [n for n in registry.names() if n not in {r["name"] for r in self.runs}]

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Sweep:
        raw = json.loads(Path(path).read_text())
        if raw.get("schema") != SCHEMA:
            raise ValueError(f"{path}: schema {raw.get('schema')!r}, expected {SCHEMA}.")
        return cls(**raw)


def top5_mean(accuracies: Sequence[float]) -> float:
    """Mean of the five highest values (of all, if fewer): the notes' measure of a run."""
    top = sorted(accuracies, reverse=True)[:5]
    return sum(top) / len(top) if top else float("nan")


def environment(devices: Sequence[str], git: dict[str, Any] | None = None) -> dict[str, Any]:
    """Library versions, devices, git commit and command line of this process."""
    from . import __version__

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "attncv": __version__,
        "platform": platform.platform(),
        "devices": [_device_name(d) for d in devices],
        "cuda": torch.version.cuda,
        "command": " ".join([_program(), *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import timm

        env["timm"] = timm.__version__
    except ImportError:
        pass
    env.update(git or _git())
    return env


def _program() -> str:
    """How this process was started: ``python -m attncv.bench`` rather than a file path."""
    path = Path(sys.argv[0])
    return "python -m attncv.bench" if path.name == "bench.py" else path.name


def _git() -> dict[str, Any]:
    here = Path(__file__).parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        return {
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(git("status", "--porcelain", "--", ".")),
        }
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None}


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def run_one(
    name: str,
    seed: int,
    data: CifarData,
    recipe: Recipe,
    scale: Scale,
    *,
    cache: bool = False,
    progress: bool | str = "log",
    cost_steps: int | None = None,
) -> dict[str, Any]:
    """Train ResNet-18 with ``name`` under the sweep's settings; return the run's JSON row."""
    cfg = scale.train
    steps = cost_steps or (50 if data.device.type == "cuda" else 5)
    speed = throughput(
        resnet18(data.num_classes, attention=name, width=scale.width),
        batch_size=cfg.batch_size,
        steps=steps,
        warmup=max(1, steps // 5),
        device=data.device,
    )  # first, so it also warms the kernels up
    prof = Profile(
        f"bench-{recipe.name}",
        data.device.type,
        scale.train_size,
        scale.test_size,
        scale.width,
        cfg,
    )
    model, result = train_model(name, data, prof, seed=seed, cache=cache, progress=progress)
    seconds = result.curve("seconds")
    steady = statistics.median(seconds[1:] if len(seconds) > 1 else seconds)  # no first epoch
    images = len(data.train_labels) // cfg.batch_size * cfg.batch_size  # drop_last
    entry, accs = registry.entry(name), result.curve("test_acc")
    return {
        "name": name,
        "title": entry.title,
        "family": entry.family,
        "seed": seed,
        "best5_acc": top5_mean(accs),
        "final_acc": accs[-1],
        "best_acc": max(accs),
        "test_acc": accs,
        "train_loss": result.curve("train_loss"),
        "params": count_params(model),
        "macs": count_macs(model),
        "train_ips": images / steady,
        "epoch_seconds": steady,
        "epoch_images": images,
        "infer_ips": speed.infer,
        "peak_mb": speed.peak_memory_mb,
        "train_seconds": result.train_seconds,
        "device": result.device,
        "dataset": result.dataset,
    }


def sweep(
    names: Sequence[str] | None = None,
    *,
    recipe: str = "fast",
    profile: str | None = None,
    seeds: Sequence[int] = (0,),
    devices: Sequence[str] | str | None = None,
    epochs: int | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    width: int | None = None,
    compile: bool = False,
    cache: bool = False,
    progress: bool | str = "log",
    out: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    cost_steps: int | None = None,
    resume: bool = False,
) -> Sweep:
    """Train every module in ``names`` (default: the whole registry, baseline first) for every seed.

    Args:
        recipe: ``"fast"`` or ``"seed"`` (:data:`RECIPES`).
        profile: ``smoke``, ``brief`` or ``full`` (default ``$ATTNCV_PROFILE``): the data size,
            width and, off a GPU, the epochs (:func:`scale_for`).
        devices: ``"cuda:0,cuda:1"``, ``"all"`` (every GPU) or a list; more than one trains in
            parallel, one run per device (``"cpu,cpu"`` tests that on a CPU).
        epochs: override the recipe's epochs (milestones and warm-up scale with them).
        train_size, test_size, width: override the profile's data sizes and network width.
        compile: train with ``torch.compile`` (worth it on a GPU for long runs).
        cache: reuse identical runs from :func:`attncv.train_model`'s cache.
        out: write the JSON here as well.
        resume: keep the runs already in ``out`` (same recipe, scale and data) and train only
            the missing (module, seed) pairs: modules registered since join the table. Every run
            records the git commit it ran at.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}.")
    names = list(names or registry.names())
    for n in names:
        registry.entry(n)  # unknown names fail before any training
    if "none" not in names:
        names.insert(0, "none")
    devs = parse_devices(devices)
    code = _git()  # the commit this process's code came from, not whatever HEAD is later
    prof = get_profile(profile, devs[0].split(":")[0])
    rec = RECIPES[recipe]
    scale = scale_for(rec, prof, epochs, train_size=train_size, test_size=test_size, width=width)
    if compile:
        scale = replace(scale, train=replace(scale.train, compile=True))
    jobs = [(n, s) for s in seeds for n in names]
    kept = _resumable(out, rec, scale) if resume and out else []
    jobs = [j for j in jobs if j not in {(r["name"], r["seed"]) for r in kept}]
    if cost_steps is None and prof.name == "smoke":
        cost_steps = 1  # seconds matter more than timing precision
    settings = {
        "recipe": rec,
        "scale": scale,
        "cache": cache,
        "cost_steps": cost_steps,
        "data_dir": data_dir,
    }
    if not jobs:
        rows = []
    elif len(devs) == 1:
        rows = _run_jobs(devs[0], jobs, settings, progress)
    else:
        rows = _run_parallel(devs, jobs, settings)
    rows = [r | {"git_commit": code.get("git_commit")} for r in rows] + kept
    order = names + sorted({r["name"] for r in kept} - set(names))
    datasets = sorted({r["dataset"] for r in rows})
    if len(datasets) > 1:
        raise ValueError(f"These runs used different data ({datasets}); one table, one dataset.")
    result = Sweep(
        {"name": rec.name, "note": rec.note, "train": asdict(rec.train), "measure": rec.measure},
        asdict(scale) | {"profile": prof.name},
        "; ".join(datasets),
        environment(devs, code),
        sorted(rows, key=lambda r: (r["seed"], order.index(r["name"]))),
    )
    if out:
        print(f"Wrote {result.save(out)}")
    return result


def _resumable(out: str | os.PathLike[str], recipe: Recipe, scale: Scale) -> list[dict[str, Any]]:
    """The runs in ``out`` if it was made with the same recipe and scale; else an error."""
    if not Path(out).exists():
        return []
    old = Sweep.load(out)
    same = json.loads(json.dumps({"train": asdict(recipe.train), "scale": asdict(scale)}))
    if old.recipe["train"] != same["train"] or {
        k: v for k, v in old.scale.items() if k not in ("profile", "note")
    } != {k: v for k, v in same["scale"].items() if k != "note"}:
        raise ValueError(f"{out} was made with another recipe or scale; resume needs the same.")
    print(f"Resuming {out}: keeping {len(old.runs)} runs.")
    return old.runs


def parse_devices(devices: Sequence[str] | str | None) -> list[str]:
    """``None`` -> the first GPU or the CPU; ``"all"`` -> every GPU; ``"a,b"`` -> ``[a, b]``."""
    if devices is None:
        return ["cuda:0" if torch.cuda.is_available() else "cpu"]
    if devices == "all":
        n = torch.cuda.device_count()
        return [f"cuda:{i}" for i in range(n)] if n else ["cpu"]
    devs = [d.strip() for d in (devices.split(",") if isinstance(devices, str) else devices)]
    for d in devs:
        torch.device(d)  # a clear error for a misspelt device
        if d.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"Device {d!r} asked for, but torch sees no GPU here.")
    return devs


def _load(device: str, settings: dict[str, Any]) -> CifarData:
    scale = settings["scale"]
    return load_cifar(
        settings["data_dir"], train_size=scale.train_size, test_size=scale.test_size, device=device
    )


def _run(
    job: tuple[str, int], data: CifarData, settings: dict[str, Any], progress: bool | str
) -> dict[str, Any]:
    return run_one(
        *job,
        data,
        settings["recipe"],
        settings["scale"],
        cache=settings["cache"],
        progress=progress,
        cost_steps=settings["cost_steps"],
    )


def _run_jobs(
    device: str, jobs: list[tuple[str, int]], settings: dict[str, Any], progress: bool | str
) -> list[dict[str, Any]]:
    data = _load(device, settings)
    return [_run(job, data, settings, progress) for job in jobs]


def _worker(device: str, threads: int, jobs: Any, results: Any, settings: dict[str, Any]) -> None:
    """One process per device: load the data there, then train runs from ``jobs`` until None."""
    try:
        torch.set_num_threads(threads)
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        data = _load(device, settings)
        while (job := jobs.get()) is not None:
            results.put(("ok", _run(job, data, settings, False)))
    except BaseException:  # report, don't hang the parent
        results.put(("error", f"{device}: {traceback.format_exc()}"))


def _run_parallel(
    devices: list[str], jobs: list[tuple[str, int]], settings: dict[str, Any]
) -> list[dict[str, Any]]:
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue, results = ctx.Queue(), ctx.Queue()
    for job in jobs:
        queue.put(job)
    for _ in devices:
        queue.put(None)
    threads = max(1, torch.get_num_threads() // max(1, sum(d == "cpu" for d in devices)))
    procs = [
        ctx.Process(target=_worker, args=(d, threads, queue, results, settings), daemon=True)
        for d in devices
    ]
    for p in procs:
        p.start()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        while len(rows) < len(jobs):
            try:
                status, payload = results.get(timeout=5)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("Every sweep worker died without reporting.") from None
                continue
            if status == "error":
                raise RuntimeError(f"A sweep worker failed:\n{payload}")
            rows.append(payload)
            print(
                f"[{len(rows)}/{len(jobs)} {time.perf_counter() - t0:6.0f} s] {payload['name']}"
                f" seed {payload['seed']} on {payload['device']}: best-5 "
                f"{payload['best5_acc']:.1%}, final {payload['final_acc']:.1%}",
                flush=True,
            )
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    return rows


def results_path(recipe: str, device: str, root: str | os.PathLike[str] = ".") -> Path:
    """Where the book keeps a sweep's JSON: ``<root>/results/benchmark-<recipe>-<kind>.json``,
    ``kind`` being ``cpu`` or ``cuda``."""
    return Path(root) / "results" / f"benchmark-{recipe}-{device.split(':')[0]}.json"


def add_parser(sub: Any) -> None:
    """The ``sweep`` subcommand of ``python -m attncv.bench``."""
    p = sub.add_parser("sweep", help="train every registry module under one recipe; JSON table")
    p.add_argument("--recipe", default="fast", choices=sorted(RECIPES))
    p.add_argument(
        "--profile",
        default=None,
        help="smoke, brief or full (default $ATTNCV_PROFILE or brief; on a GPU brief = full data)",
    )
    p.add_argument("--names", nargs="*", help=f"modules (default: all of {registry.names()})")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument(
        "--devices",
        default=None,
        help="cuda:0,cuda:1 | all | cpu,cpu (default: the first GPU, else the CPU)",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    p.add_argument("--train-size", type=int, default=None, help="override: training images")
    p.add_argument("--test-size", type=int, default=None, help="override: test images")
    p.add_argument("--width", type=int, default=None, help="override: ResNet-18 width")
    p.add_argument(
        "--cost-steps",
        type=int,
        default=None,
        help="steps timed for inference speed and peak memory (default: 50 on a GPU, 5 on a CPU)",
    )
    p.add_argument("--compile", action="store_true", help="train with torch.compile")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out "
        "(same recipe and scale) and train only the missing ones",
    )
    p.add_argument("--cache", action="store_true", help="reuse identical cached runs")
    p.add_argument("--data-dir", default=None, help="folder with cifar-100-python/")
    p.add_argument(
        "--out",
        default=None,
        help="write the JSON here (the book reads "
        "chapters/results/benchmark-<recipe>-<cpu|cuda>.json)",
    )
    p.set_defaults(run=_cli)


def _cli(args: Any) -> int:
    from .sweep_report import format_table, provenance

    result = sweep(**{k: v for k, v in vars(args).items() if k not in ("command", "run")})
    print(provenance(result), format_table(result), sep="\n\n")
    return 0
