"""The benchmark sweep: ResNet-18 with every registered attention module, and the baseline, trained
under one recipe on the same data, with the same seeds and schedule, into one JSON file.

Two recipes (:data:`attncv.train.profiles.RECIPES`):

- ``seed``: the course notes' experiment as their published code runs it: SGD 0.1, momentum 0.9,
  weight decay 1e-4, batch 128, 160 epochs, steps to 0.01 and 0.001 at epochs 80 and 120, and a
  real one-epoch linear warm-up (the published code defines one but never runs it);
- ``fast``: a modern short schedule: 15 epochs, batch 512, linear warm-up then linear decay
  (one-cycle), label smoothing 0.1, bf16 and channels_last on a GPU, data on the GPU.

The measure of a run is the mean test accuracy of its best five epochs (the notes' measure); the
final epoch's accuracy is kept beside it. One device trains the runs one after another in this
process; ``--devices all`` (or ``cuda:0,cuda:1``, a count, ``cpu,cpu``) or a Ray cluster
(``--address auto``) trains one run per device at a time as Ray tasks (:mod:`.cluster`), retrying
a task whose worker dies and recording a task that raises as failed. Every finished run is
written to the JSON at once, so an interrupted sweep goes on with ``resume``. Results carry their
provenance (recipe, data, device, library versions, git commit), so a committed table always says
where it came from.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..attention import registry
from ..data import CifarData, load_cifar
from ..model import count_macs, count_params, resnet18
from ..train import RECIPES, Profile, Recipe, best5_mean, get_profile, recipe_profile, train_model
from ..train.speed import throughput
from . import cluster
from .checks import check_batches, check_numbers, check_out, save_or_keep
from .devices import Placement, placement
from .provenance import environment, git_commit
from .resume import check_data_folder, check_resume, check_saved, same_data
from .signals import held, sigterm_interrupts

SCHEMA = 1


@dataclass
class Sweep:
    """A sweep's runs and where they came from; saved as JSON by :meth:`save`."""

    recipe: dict[str, Any]
    scale: dict[str, Any]
    data: str
    environment: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    schema: int = SCHEMA
    failed: list[dict[str, Any]] = field(default_factory=list)  # runs that raised: tracebacks

    def names(self) -> list[str]:
        """Modules in the sweep, baseline first, in registry order (unknown names last)."""
        known = registry.names()
        found = {r["name"] for r in self.runs}
        return sorted(found, key=lambda n: known.index(n) if n in known else len(known))

    def missing(self) -> list[str]:
        """Registered modules this sweep did not train (it predates them)."""
        return [n for n in registry.names() if n not in {r["name"] for r in self.runs}]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON atomically: a reader (or a sweep stopped mid-write) never sees half."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Sweep:
        """A saved sweep; a ``ValueError`` that names ``path`` if it is not one."""
        try:
            text = Path(path).read_text()
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a text file, so not a sweep's JSON.") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, path: str) -> Sweep:
        """The sweep in ``text`` (read from ``path``); a ``ValueError`` that names ``path`` if
        it is not one."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); is it truncated?") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path} holds a JSON {type(raw).__name__}, not a sweep's object.")
        if raw.get("schema") != SCHEMA:
            raise ValueError(f"{path}: schema {raw.get('schema')!r}, expected {SCHEMA}.")
        try:
            return cls(**raw)
        except TypeError as exc:
            raise ValueError(f"{path} is not a sweep's JSON: {exc}.") from None


def scale_record(scale: Profile, profile: str | None = None) -> dict[str, Any]:
    """How much of the recipe a sweep ran, as its JSON records it: data sizes, width, the
    training config as run, the note, and the profile it was sized under."""
    record = {
        "train_size": scale.train_size,
        "test_size": scale.test_size,
        "width": scale.width,
        "train": asdict(scale.train),
        "note": scale.note,
    }
    return record | ({"profile": profile} if profile else {})


def run_one(
    name: str,
    seed: int,
    data: CifarData,
    recipe: Recipe,
    scale: Profile,
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
    prof = replace(scale, device=data.device.type)
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
        "best5_acc": best5_mean(accs),
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
    devices: Sequence[str] | str | int | None = None,
    address: str | None = None,
    retries: int = 3,
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
            width and, off a GPU, the epochs (:func:`attncv.train.recipe_profile`).
        devices: ``"cuda:0,cuda:1"``, ``"all"`` (every GPU), a count of GPUs, or a list; more
            than one trains on Ray, one run per device at a time (``"cpu,cpu"`` tests that on a
            CPU). Needs the ``cluster`` extra; one device trains in this process without it.
        address: join the Ray cluster there (``"auto"``, ``"ray://host:port"``) and train one
            run per GPU of it (per CPU with ``devices="cpu"``); ``devices`` then gives only the
            kind and, as a count, how many runs at once.
        retries: on Ray, how often a task whose worker died is run again.
        epochs: override the recipe's epochs (milestones and warm-up scale with them).
        train_size, test_size, width: override the profile's data sizes and network width.
        compile: train with ``torch.compile`` (worth it on a GPU for long runs).
        cache: reuse identical runs from :func:`attncv.train_model`'s cache.
        out: write the JSON here as well; it is rewritten after every finished run, so a sweep
            that is stopped keeps what it finished (and ``resume`` goes on). On Ray, a run that
            raised is listed under ``failed`` with its traceback, and ``resume`` retrains it.
        resume: keep the runs already in ``out`` (same recipe, scale and data) and train only
            the missing (module, seed) pairs: modules registered since join the table. Every run
            records the git commit it ran at.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}.")
    check_numbers(  # before any data loads or any run trains
        seeds=seeds,
        epochs=epochs,
        train_size=train_size,
        test_size=test_size,
        width=width,
        cost_steps=cost_steps,
    )
    check_out(out)
    check_resume(resume, out)
    cluster.check_retries(retries)
    names = _with_baseline(names)
    place = placement(devices, address)
    check_data_folder(data_dir, place.address)
    if place.on_ray:
        cluster.require_ray()  # before any training: without Ray, the install line
    code = git_commit()  # the commit this process's code came from, not whatever HEAD is later
    prof = get_profile(profile, place.kind)
    rec = RECIPES[recipe]
    scale = recipe_profile(
        rec, prof, epochs, train_size=train_size, test_size=test_size, width=width
    )
    if compile:
        scale = replace(scale, train=replace(scale.train, compile=True))
    check_batches(scale.train_size, scale.train.batch_size)
    jobs = [(n, s) for s in seeds for n in names]
    kept, kept_failed = _resumable(out, rec, scale) if resume and out else ([], [])
    kept_data = sorted({r["dataset"] for r in kept})
    if len(kept_data) > 1:
        raise ValueError(f"{out} holds runs on different data ({kept_data}); resume needs one.")
    jobs = [j for j in jobs if j not in {(r["name"], r["seed"]) for r in kept}]
    kept_failed = [f for f in kept_failed if (f["name"], f["seed"]) not in jobs]  # retrained
    if cost_steps is None and prof.name == "smoke":
        cost_steps = 1  # seconds matter more than timing precision
    settings = {
        "recipe": rec,
        "scale": scale,
        "cache": cache,
        "cost_steps": cost_steps,
        "data_dir": data_dir,
        "dataset": kept_data[0] if len(kept_data) == 1 else None,  # each device checks its data
        "resumed": str(out),
    }
    document = partial(
        _document,
        kept=kept,
        commit=code.get("git_commit"),
        about={
            "name": rec.name,
            "note": rec.note,
            "train": asdict(rec.train),
            "measure": rec.measure,
        },
        scale=scale_record(scale, prof.name),
        environment=_environment(place, code),
        order=names + sorted({r["name"] for r in kept} - set(names)),
    )

    def checkpoint(new: list[dict[str, Any]], failed: Sequence[dict[str, Any]] = ()) -> None:
        if out:
            _save(document, new, kept_failed + list(failed), out, final=False)

    failed: list[dict[str, Any]] = []
    with sigterm_interrupts():  # SIGTERM stops the sweep as Ctrl-C does, on one device too
        if not jobs:
            rows = []
        elif not place.on_ray:
            rows = _run_jobs(place.devices[0], jobs, settings, progress, checkpoint)
        else:
            rows, failed = cluster.run_on_ray(
                jobs,
                settings,
                _load,
                _run_quietly,
                place,
                retries=retries,
                checkpoint=checkpoint,
            )
    if out:
        result = _save(document, rows, kept_failed + failed, out, final=True)
    else:
        result = document(rows, kept_failed + failed)
    for f in failed:
        print(f"FAILED: {f['name']} seed {f['seed']} on {f['node']}:\n{f['traceback']}")
    return result


def _save(
    document: Callable[..., Sweep],
    rows: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    out: str | os.PathLike[str],
    *,
    final: bool,
) -> Sweep:
    """Write the sweep so far to ``out`` (:func:`save_or_keep`: where that fails, beside it).
    Runs that cannot join its table (other data than the runs kept there) are never lost: they
    go to a ``.unsaved-`` file beside it, and at the end the sweep stops with an error."""
    try:
        result = document(rows, failed)
    except ValueError as exc:  # one table, one dataset: these runs cannot join it
        target = Path(out)
        aside = target.with_name(f"{target.stem}.unsaved-{os.getpid()}{target.suffix or '.json'}")
        kept = save_or_keep(document(rows, failed, kept=[], mixed=True), aside, final=final)
        message = f"{exc} This sweep's runs are in {kept}; {out} is unchanged."
        if final:
            raise ValueError(message) from None
        print(f"warning: {message}", file=sys.stderr)
        return document(rows, failed, kept=[], mixed=True)
    where = save_or_keep(result, out, final=final)
    if final:
        print(f"Wrote {where}")
    return result


def _environment(place: Placement, code: dict[str, Any]) -> dict[str, Any]:
    """The provenance's environment; a cluster's devices are named by its runs' rows."""
    if place.address is None:
        return environment(place.devices, code)
    env = environment([], code)
    env["devices"] = [f"Ray cluster at {place.address}: {place.kind} tasks"]
    return env


def _with_baseline(names: Sequence[str] | None) -> list[str]:
    """The modules to train (default: the whole registry), checked before any training, with
    the baseline first."""
    names = list(names or registry.names())
    for n in names:
        registry.entry(n)  # unknown names fail before any training
    if "none" not in names:
        names.insert(0, "none")
    return names


def _document(
    new: list[dict[str, Any]],
    failed: Sequence[dict[str, Any]] = (),
    *,
    kept: list[dict[str, Any]],
    commit: str | None,
    about: dict[str, Any],
    scale: dict[str, Any],
    environment: dict[str, Any],
    order: list[str],
    mixed: bool = False,
) -> Sweep:
    """The sweep so far: this process's runs (stamped with its commit) and the resumed ones;
    a ``ValueError`` if they used different data, unless ``mixed`` (a file set aside)."""
    rows = [r | {"git_commit": commit} for r in new] + kept
    datasets = sorted({r["dataset"] for r in rows})
    if len(datasets) > 1 and not mixed:
        raise ValueError(f"These runs used different data ({datasets}); one table, one dataset.")
    return Sweep(
        about,
        scale,
        "; ".join(datasets),
        environment,
        sorted(rows, key=lambda r: (r["seed"], order.index(r["name"]))),
        failed=sorted(failed, key=lambda f: (f["seed"], _index(order, f["name"]))),
    )


def _index(order: list[str], name: str) -> int:
    return order.index(name) if name in order else len(order)


def _resumable(
    out: str | os.PathLike[str], recipe: Recipe, scale: Profile
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The runs in ``out``, and the runs that failed there, if it was made with the same
    recipe and scale; else an error."""
    if not Path(out).exists():
        return [], []
    old = Sweep.load(out)
    check_saved(asdict(old), out)  # every part, before anything reads one of them
    same = json.loads(json.dumps({"train": asdict(recipe.train), "scale": scale_record(scale)}))
    if old.recipe["train"] != same["train"] or {
        k: v for k, v in old.scale.items() if k not in ("profile", "note")
    } != {k: v for k, v in same["scale"].items() if k != "note"}:
        raise ValueError(f"{out} was made with another recipe or scale; resume needs the same.")
    print(f"Resuming {out}: keeping {len(old.runs)} runs.")
    return old.runs, old.failed


def _load(device: str, settings: dict[str, Any]) -> CifarData:
    """The data on ``device``; :class:`cluster.Refused` before any run trains if they are not
    the data of the runs the sweep resumes."""
    scale = settings["scale"]
    data = load_cifar(
        settings["data_dir"], train_size=scale.train_size, test_size=scale.test_size, device=device
    )
    same_data(settings.get("dataset"), data.description, settings.get("resumed", "--out"))
    return data


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
    device: str,
    jobs: list[tuple[str, int]],
    settings: dict[str, Any],
    progress: bool | str,
    checkpoint: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``jobs`` one after another on ``device``; ``checkpoint`` gets the rows after each."""
    data = _load(device, settings)
    rows: list[dict[str, Any]] = []
    for job in jobs:
        row = _run(job, data, settings, progress)
        with held():  # written before an interrupt is honoured
            rows.append(row)
            if checkpoint:
                checkpoint(rows)
    return rows


def _run_quietly(job: tuple[str, int], data: CifarData, settings: dict[str, Any]) -> dict:
    return _run(job, data, settings, False)  # workers print one line per run, not per epoch


def results_path(recipe: str, device: str, root: str | os.PathLike[str] = ".") -> Path:
    """Where the book keeps a sweep's JSON: ``<root>/results/benchmark-<recipe>-<kind>.json``,
    ``kind`` being ``cpu`` or ``cuda``."""
    return Path(root) / "results" / f"benchmark-{recipe}-{device.split(':')[0]}.json"
