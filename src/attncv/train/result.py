"""What a training run produced (:class:`FitResult`) and the measures a chapter reports."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# A run's machine-readable record, stored beside its log in a notebook's output (a second MIME
# type): what the GPU run's summary reads, never the printed lines.
RUN_MIME = "application/vnd.attncv.run+json"


def json_number(value: float) -> float | None:
    """A float for a JSON record (a run's, a verdict's): NaN or infinity (nothing measured) as
    None, since JSON has neither."""
    value = float(value)
    return value if math.isfinite(value) else None


def best5_mean(accuracies: Sequence[float]) -> float:
    """Mean of the five highest values (of all, if fewer): the benchmark's measure of a run."""
    top = sorted(accuracies, reverse=True)[:5]
    return sum(top) / len(top) if top else float("nan")


@dataclass
class FitResult:
    """What a training run produced: per-epoch history and the numbers a chapter reports."""

    name: str
    dataset: str
    device: str
    config: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    images_per_second: float = 0.0
    parameters: int = 0

    @property
    def final_acc(self) -> float:
        return self.history[-1]["test_acc"] if self.history else float("nan")

    @property
    def best_acc(self) -> float:
        return max((r["test_acc"] for r in self.history), default=float("nan"))

    @property
    def best5_acc(self) -> float:
        """Mean test accuracy of the best five epochs (the benchmark's measure)."""
        return best5_mean(self.curve("test_acc"))

    def curve(self, key: str) -> list[float]:
        return [r[key] for r in self.history]

    def summary(self) -> str:
        """Three short lines (within 90 columns): the result, the time, the data."""
        data = textwrap.fill(
            f"data: {self.dataset}", 88, initial_indent="  ", subsequent_indent="        "
        )
        epochs = f"{len(self.history)} epoch{'' if len(self.history) == 1 else 's'}"
        return (
            f"{self.name}: test accuracy {self.final_acc:.1%} (best {self.best_acc:.1%}) after "
            f"{epochs}\n  {self.train_seconds:.1f} s of training "
            f"({self.images_per_second:,.0f} images/s) on {self.device}\n{data}"
        )

    def record(self) -> dict[str, Any]:
        """The run as plain data (JSON) for a notebook's output: which run, on what, its test
        accuracies and its speed."""
        return {
            "name": self.name,
            "device": self.device,
            "dataset": self.dataset,
            "epochs": len(self.history),
            "seconds": json_number(self.train_seconds),
            "images_per_second": json_number(self.images_per_second),
            "test_accuracy": json_number(self.final_acc),
            "best_accuracy": json_number(self.best_acc),
        }

    def to_json(self) -> str:
        return json.dumps(
            asdict(self)
            | {"final_acc": self.final_acc, "best_acc": self.best_acc, "best5_acc": self.best5_acc},
            indent=1,
        )
