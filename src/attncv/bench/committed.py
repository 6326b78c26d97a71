"""The benchmark chapter's table: the results committed with the book by default, a new sweep only
when the reader asks for one.

A sweep trains a dozen networks (all of CIFAR-100 on a GPU: hours), so :func:`benchmark` shows
the committed results, ``results/benchmark-<recipe>-<cpu|cuda>.json``, and trains only on request:
``train=True`` or ``ATTNCV_TRAIN_BENCHMARK=1``. The smoke profile (CI) trains its tiny sweep, so CI
exercises the sweep itself.

Which file: this device's kind (``cuda`` or ``cpu``); where there is none for it, the CPU's, and
it says so. Where: the ``results/`` folder beside the notebook (``chapters/results`` in the book);
where that is absent, as in Colab, which opens the notebook alone, the same file from the book's
repository (:data:`RESULTS_URL`), kept in the cache (``$ATTNCV_CACHE/results``).
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from ..data.layout import cache_dir
from ..env import default_device, env_flag
from ..train import get_profile
from ..train.progress import wrap
from .sweep import Sweep, results_path, sweep

RESULTS_URL = "https://raw.githubusercontent.com/attncv/attncv/main/chapters/results/{name}"
TRAIN_VARIABLE = "ATTNCV_TRAIN_BENCHMARK"


def benchmark(
    recipe: str = "fast",
    profile: str | None = None,
    *,
    device: str | None = None,
    root: str | os.PathLike[str] = ".",
    train: bool | None = None,
    url: str | None = RESULTS_URL,
    **sweep_options: object,
) -> Sweep:
    """The benchmark table for ``recipe``: the committed results, or a new sweep on request.

    Args:
        recipe: ``"fast"`` or ``"seed"``.
        profile: ``smoke``, ``brief`` or ``full`` (default ``$ATTNCV_PROFILE``); ``smoke`` trains
            its tiny sweep, the others show the committed results unless ``train``.
        device: whose results to show (default: CUDA when available).
        root: the folder holding ``results/`` (the notebook's folder).
        train: train a new sweep (default ``$ATTNCV_TRAIN_BENCHMARK``, off).
        url: where the book's repository serves the committed files (``{name}`` is the file
            name); ``None`` looks only in ``root``.
        sweep_options: passed to :func:`attncv.bench.sweep.sweep` when it trains.
    """
    prof = get_profile(profile, device or default_device())
    train = env_flag(TRAIN_VARIABLE) if train is None else train
    if train or prof.name == "smoke":
        why = "as asked" if train else "the smoke profile trains its tiny sweep"
        print(f"Training the benchmark sweep here ({why}): recipe {recipe}, {prof.name} profile.")
        return sweep(recipe=recipe, profile=prof.name, **sweep_options)
    kind = prof.device.split(":")[0]
    tried: list[str] = []
    for wanted in dict.fromkeys([kind, "cpu"]):
        found = _find(recipe, wanted, Path(root), url, tried)
        if found is None:
            continue
        result, where = found
        other = (
            f"There are no committed {kind} results yet, so these are the CPU's. "
            if wanted != kind
            else ""
        )
        print(
            wrap(
                f"Showing the committed results from {where} (the commands that made them are "
                f"under the table).\n{other}To train this table here "
                f"instead, set {TRAIN_VARIABLE}=1 (or call benchmark(train=True))."
            )
            + "\n"
        )
        return result
    raise FileNotFoundError(
        f"No committed benchmark results for recipe {recipe!r} were found (tried: "
        f"{'; '.join(tried)}). Run the notebook from the book's chapters/ folder, connect to the "
        f"internet, or set {TRAIN_VARIABLE}=1 to train the sweep here."
    )


def _find(
    recipe: str, kind: str, root: Path, url: str | None, tried: list[str]
) -> tuple[Sweep, str] | None:
    """The committed sweep for ``kind``: beside the notebook, else from the repository."""
    local = results_path(recipe, kind, root)
    if local.exists():
        return Sweep.load(local), str(local)
    tried.append(str(local))
    if url is None or env_flag("ATTNCV_OFFLINE"):
        return None
    name = local.name
    source = url.format(name=name)
    kept = cache_dir() / "results" / name
    try:
        request = urllib.request.Request(source, headers={"User-Agent": "attncv"})
        with urllib.request.urlopen(request, timeout=15) as response:
            body = response.read()
    except Exception as exc:  # offline, not committed yet (404): a kept copy, or the next kind
        tried.append(f"{source} ({type(exc).__name__}: {exc})")
        return _kept(kept, recipe, source, tried)
    try:  # checked before it is cached: a login page served with 200 is not a sweep
        result = _parse(body, recipe, source)
    except ValueError as exc:
        tried.append(f"{source} (discarded, not cached: {exc})")
        return _kept(kept, recipe, source, tried)
    kept.parent.mkdir(parents=True, exist_ok=True)
    part = kept.with_name(f"{name}.{os.getpid()}.part")
    part.write_bytes(body)
    part.replace(kept)
    return result, source


def _parse(body: bytes, recipe: str, where: str) -> Sweep:
    """The sweep in ``body`` (from ``where``); a ``ValueError`` naming ``where`` if it is not
    one, or is another recipe's."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where} is not a text file, so not a sweep's JSON.") from None
    result = Sweep.parse(text, where)
    if not isinstance(result.recipe, dict) or result.recipe.get("name") != recipe:
        raise ValueError(
            f"{where} does not hold the sweep of recipe {recipe!r} (its recipe: "
            f"{result.recipe!r:.80})."
        )
    return result


def _kept(kept: Path, recipe: str, source: str, tried: list[str]) -> tuple[Sweep, str] | None:
    """The copy of ``source`` kept in the cache earlier, if it is a valid sweep of ``recipe``;
    an invalid one (an older attncv cached whatever came back) is named and removed."""
    if not kept.exists():
        return None
    try:
        result = _parse(kept.read_bytes(), recipe, str(kept))
    except ValueError as exc:
        tried.append(f"{kept} (a cached copy that is not usable, removed: {exc})")
        kept.unlink(missing_ok=True)
        return None
    return result, f"{kept} (kept from {source} earlier; it could not be refreshed)"
