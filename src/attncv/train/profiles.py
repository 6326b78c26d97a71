"""How much a run trains: the notebooks' profiles and the benchmark's recipes, in one place.

A :class:`Profile` is what a notebook trains on one device: data size, network width and a
:class:`~attncv.train.config.TrainConfig`. ``smoke`` runs in seconds on a CPU (CI and nbval);
``brief`` is the readers' default (the real subset for a few epochs: seconds on an H100, about a
minute on a Colab T4; on a CPU it shrinks itself and says so); ``full`` is the benchmark's seed
recipe. Choose with ``$ATTNCV_PROFILE``; ``CI=true`` implies ``smoke``.

A :class:`Recipe` is the benchmark's training schedule (:data:`RECIPES`: ``seed``, the course
notes' 160 epochs, and ``fast``, a modern short schedule); :func:`recipe_profile` sizes one under a
profile (all the data on a GPU, the profile's subset and width elsewhere).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from ..env import default_device
from .config import TrainConfig
from .progress import wrap

PROFILES = ("smoke", "brief", "full")


@dataclass(frozen=True)
class Profile:
    """What a run trains under one profile on one device.

    Attributes:
        name: ``smoke``, ``brief`` or ``full`` (or a benchmark recipe's name).
        device: ``"cuda"`` or ``"cpu"``.
        train_size, test_size: total images (class-balanced); ``None`` = the whole split.
        width: ResNet-18's first-stage width (64 is the paper's; a CPU run shrinks it).
        train: the training recipe for :func:`attncv.fit`.
        note: what was shrunk and why, shown to the reader.
    """

    name: str
    device: str
    train_size: int | None
    test_size: int | None
    width: int
    train: TrainConfig = field(default_factory=TrainConfig)
    note: str = ""

    @property
    def brief_on_cpu(self) -> bool:
        """The brief profile shrunk for a CPU (4,000 images, 8 epochs, quarter width): where a
        chapter trims its extra runs to stay within minutes. The one place this is decided."""
        return self.name == "brief" and self.device == "cpu"

    def data_kwargs(self) -> dict[str, object]:
        """Keyword arguments for :func:`attncv.load_cifar`."""
        return {"train_size": self.train_size, "test_size": self.test_size, "device": self.device}

    def __str__(self) -> str:
        size = "all" if self.train_size is None else f"{self.train_size:,}"
        text = (
            f"profile {self.name} on {self.device}: {size} training images, ResNet-18 width "
            f"{self.width}, {self.train.epochs} epochs, batch {self.train.batch_size}"
        )
        return wrap(text + (f"\n{self.note}" if self.note else ""))


BRIEF = TrainConfig(
    epochs=20,
    batch_size=256,
    lr=0.2,
    weight_decay=5e-4,
    schedule="onecycle",
    warmup_epochs=5,
    label_smoothing=0.1,
)
SEED_RECIPE = TrainConfig(
    epochs=160,
    batch_size=128,
    lr=0.1,
    momentum=0.9,
    nesterov=False,
    weight_decay=1e-4,
    schedule="step",
    milestones=(80, 120),
    lr_decay=0.1,
    warmup_epochs=1,
    label_smoothing=0.0,
)
FAST_RECIPE = TrainConfig(
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


def get_profile(name: str | None = None, device: str | None = None) -> Profile:
    """The profile ``name`` (default ``$ATTNCV_PROFILE``, ``smoke`` under ``CI=true``, else
    ``brief``) for ``device`` (default: CUDA when available)."""
    name = (
        name
        or os.environ.get("ATTNCV_PROFILE")
        or ("smoke" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "brief")
    )
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r}; choose one of {', '.join(PROFILES)} "
            "(set ATTNCV_PROFILE or pass name=)."
        )
    device = device or default_device()
    gpu = device.startswith("cuda")
    if name == "smoke":
        return Profile(
            "smoke",
            device,
            400,
            200,
            16,
            replace(BRIEF, epochs=1, batch_size=64, warmup_epochs=0.5),
            "smoke: a few hundred images, one epoch, a narrow network. It checks that "
            "the code runs; its numbers mean nothing.",
        )
    if name == "brief" and gpu:
        return Profile("brief", device, 10_000, 2_000, 64, BRIEF)
    if name == "brief":
        return Profile(
            "brief",
            device,
            4_000,
            1_000,
            16,
            replace(BRIEF, epochs=8, batch_size=128, warmup_epochs=2),
            "No GPU: the brief run shrinks itself to 4,000 training images, 8 epochs "
            "and a quarter-width ResNet-18 (16-32-64-128 channels). Each training run "
            "then takes a minute or two on two CPU cores, and a chapter may train "
            "several. Expect lower accuracy than on a GPU.",
        )
    return Profile(
        "full",
        device,
        None,
        None,
        64,
        SEED_RECIPE,
        "" if gpu else "full on a CPU takes days: use a GPU.",
    )


@dataclass(frozen=True)
class Recipe:
    """A named training recipe of the benchmark and what it stands for."""

    name: str
    train: TrainConfig
    note: str
    measure: str = "best5_acc"  # what ranks runs: "best5_acc" or "final_acc"


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
        FAST_RECIPE,
        "A modern short schedule: 15 epochs, batch 512, Nesterov SGD peaking at 0.4 "
        "after 3 warm-up epochs, then linear decay to 0 (one-cycle), weight decay 5e-4, "
        "label smoothing 0.1; bf16 and channels_last on a GPU. Measure: the final epoch "
        "(one-cycle ends at its best; its best five epochs include some at a high rate).",
        "final_acc",
    ),
}


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


def recipe_profile(
    recipe: Recipe,
    profile: Profile,
    epochs: int | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    width: int | None = None,
) -> Profile:
    """The benchmark recipe sized under a profile, as a :class:`Profile` named after the recipe.

    ``full`` and ``brief`` on a GPU run the recipe on the whole dataset at width 64; ``brief`` on a
    CPU and ``smoke`` take the profile's data and width, its epochs and (for small data) batch 128
    at a linearly scaled learning rate. The other arguments override; the note says what differs
    from the recipe.
    """
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
    note = ""
    if (n_train, n_test, w, train) != (None, None, 64, cfg):
        size = "all" if n_train is None else f"{n_train:,}"
        note = (
            f"Shrunk from the recipe ({profile.name} profile on {profile.device}): {size} "
            f"training images, width {w}, {train.epochs} of {cfg.epochs} epochs, batch "
            f"{train.batch_size} at learning rate {train.lr:g} (scaled linearly), milestones and "
            "warm-up scaled with the epochs."
        )
    return Profile(f"bench-{recipe.name}", profile.device, n_train, n_test, w, train, note)
