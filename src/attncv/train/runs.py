"""Train a ResNet-18 with a given attention module, or load the identical run from a cache.

Several chapters train the same baseline under the same profile; :func:`train_model` keys each run
by a hash of everything that determines it (attention and its arguments, stages, width, recipe,
dataset description, seed, device type, and the library's own source), so a cached run is reused
only when retraining would repeat it, and any change to the code or the recipe retrains.
Runs live in ``$ATTNCV_RUNS`` (default ``~/.cache/attncv/runs``); ``cache=False`` always trains.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ..data import CifarData
from ..model import ResNet, resnet18
from .loop import fit, set_seed
from .profiles import Profile
from .result import FitResult


def runs_dir() -> Path:
    return Path(os.environ.get("ATTNCV_RUNS", "~/.cache/attncv/runs")).expanduser()


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1].rglob("*.py")):  # the whole package
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_key(
    attention: str,
    data: CifarData,
    profile: Profile,
    seed: int,
    attention_kwargs: dict | None,
    attention_stages: tuple[int, ...] | None,
    **overrides: object,
) -> str:
    spec = {
        "attention": attention,
        "kwargs": attention_kwargs or {},
        "stages": list(attention_stages) if attention_stages else None,
        "width": profile.width,
        "train": asdict(profile.train),
        "overrides": overrides,
        "data": data.description,
        "classes": data.num_classes,
        "seed": seed,
        "device": data.device.type,
        "source": _source_hash(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:20]


def train_model(
    attention: str,
    data: CifarData,
    profile: Profile,
    *,
    seed: int = 0,
    attention_kwargs: dict | None = None,
    attention_stages: tuple[int, ...] | None = None,
    name: str | None = None,
    cache: bool = True,
    progress: bool | str = True,
    on_epoch: Callable[[nn.Module], dict[str, float]] | None = None,
    **overrides: object,
) -> tuple[ResNet, FitResult]:
    """Build ResNet-18 with ``attention`` (seeded), train it under ``profile``, return both.

    ``overrides`` replace fields of the profile's :class:`~attncv.train.config.TrainConfig`;
    ``on_epoch`` (a library function, keyed by name) is passed to :func:`~attncv.train.loop.fit`.
    """
    recorder = f"{on_epoch.__module__}.{on_epoch.__qualname__}" if on_epoch else None
    key = run_key(
        attention,
        data,
        profile,
        seed,
        attention_kwargs,
        attention_stages,
        **overrides,
        **({"on_epoch": recorder} if recorder else {}),
    )
    path = runs_dir() / f"{attention}-{key}.pt"
    set_seed(seed)
    model = resnet18(
        data.num_classes,
        attention=attention,
        attention_stages=attention_stages,
        attention_kwargs=attention_kwargs,
        width=profile.width,
    )
    if cache and path.exists():
        saved = torch.load(path, map_location=data.device, weights_only=False)
        model.load_state_dict(saved["state_dict"])
        result = FitResult(**saved["result"])
        if name:
            result.name = name
        print(f"Loaded the identical run from the cache ({path.name}):\n{result.summary()}")
        return model.to(data.device).eval(), result
    result = fit(
        model,
        data,
        profile.train,
        seed=seed,
        name=name,
        progress=progress,
        on_epoch=on_epoch,
        **overrides,
    )
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state_dict": model.state_dict(), "result": asdict(result)}, tmp)
        tmp.replace(path)
    return model.eval(), result
