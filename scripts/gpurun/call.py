"""One call of the GPU run: its arguments, its folders (the state kept between calls, the products,
$OUT, the carried folder), the environment its steps run in, and its log."""

from __future__ import annotations

import argparse
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from .clock import elapsed
from .files import copy_atomic
from .plan import Step


class Call:
    """State, logging and products of one call, in ``state_dir`` (kept between calls). What the
    other parts of a run add to it: ``state.StateMixin`` (what is done), ``install.InstallMixin``
    (the environment), ``execute.ExecuteMixin`` (the steps) and ``run.Run`` (their order)."""

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args, self.root = args, root
        self.state_dir = Path(args.state).resolve()
        self.products = self.state_dir / "products"
        self.out = Path(args.out).resolve()
        self.carry = Path(args.carry).resolve()
        self.budget = float(args.budget)
        self.state_path = self.state_dir / "state.json"
        self.log_path = self.state_dir / "gpu-run.log"
        self.env = dict(os.environ)
        self.info: dict[str, Any] = {}
        self.kind = "cpu"
        self.state: dict[str, Any] = {}
        self.notes: list[str] = []
        self.current: subprocess.Popen | None = None
        self.running: Step | None = None
        self._log_lock = threading.Lock()

    # -- logging ------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        line = f"[{elapsed():7.1f}s] {message}"
        with self._log_lock:
            print(line, flush=True)
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a") as f:
                f.write(line + "\n")

    def copy_log(self) -> None:
        if self.log_path.exists():
            copy_atomic(self.log_path, self.out / self.log_path.name)

    def left(self) -> float:
        return self.budget - elapsed()

    # -- where the products go ----------------------------------------------------------------
    def sweep_path(self) -> Path:
        return self.products / "results" / f"benchmark-fast-{self.kind}.json"

    def timm_path(self) -> Path:
        return self.products / "results" / f"timm-{self.kind}.json"

    def notebook_path(self, notebook: str) -> Path:
        rel = (
            Path(notebook).relative_to("chapters") if notebook.startswith("chapters") else notebook
        )
        return self.products / "notebooks" / rel
