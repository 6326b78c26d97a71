"""The steps themselves: each runs as a child process, its output streamed into the log and ended
(with all it started) when the budget runs out. A notebook runs in this script's ``_notebook``
child (``notebook.py``), in a staged copy beside the results it reads; the sweep and the timm
comparison run as ``python -m attncv.bench``; each step's result says done, partial (a sweep keeps
its finished runs), stopped or failed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from .files import copy_atomic
from .plan import REGISTRY, Step, sweep_extra, timm_extra
from .proc import stop_tree
from .state import StateMixin

ENTRY = Path(__file__).resolve().parents[1] / "gpu_run.py"  # runs a notebook: gpu_run.py _notebook


class ExecuteMixin(StateMixin):
    """Runs one step (``run_notebook``, ``run_sweep``, ``run_timm``) and says how it went."""

    def execute(self, cmd: list[str], timeout: float, cwd: Path | None = None) -> int | None:
        """Run a step's process, its output streamed into the log; None if stopped for time."""
        self.log("$ " + " ".join(cmd))
        proc = subprocess.Popen(
            cmd,
            cwd=cwd or self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.current = proc

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.log("  | " + line.rstrip()[:300])

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=max(timeout, 1.0))
        except subprocess.TimeoutExpired:
            self.log(f"out of time after {timeout:.0f} s: stopping the step")
            stop_tree(proc)
            rc = None
        finally:
            self.current = None
        reader.join(timeout=5)
        return rc

    def run_notebook(self, step: Step, timeout: float) -> tuple[str, str]:
        assert step.notebook
        stage = self.state_dir / "stage"
        staged = stage / step.notebook
        copy_atomic(self.root / step.notebook, staged)  # executed outside the tree's chapters/
        results = self.products / "results"
        if results.is_dir():  # the benchmark chapter reads results/ beside it
            for f in results.glob("*.json"):
                copy_atomic(f, stage / "chapters" / "results" / f.name)
        target = self.notebook_path(step.notebook)
        failed = self.products / "failed" / target.name
        cmd = [
            sys.executable,
            str(ENTRY),
            "_notebook",
            str(staged),
            str(target),
            "--failed",
            str(failed),
            "--profile",
            self.args.profile,
            "--device-name",
            str(self.info.get("device")),
            "--timeout",
            str(int(timeout)),
        ]
        rc = self.execute(cmd, timeout, cwd=staged.parent)
        if rc == 0 and target.is_file():
            failed.unlink(missing_ok=True)
            wanted = self.sweep_path().name
            if step.needs and self.args.profile != "smoke" and wanted not in target.read_text():
                note = f"its outputs never name {wanted}: check which results it read"
                self.notes.append(f"{step.notebook}: {note}")
                return "done", note
            return "done", ""
        if rc is None:
            return "stopped", "out of time"
        return "failed", f"exit status {rc}; the notebook as far as it ran: products/failed/"

    def run_sweep(self, step: Step, timeout: float) -> tuple[str, str]:
        seeds = [s for s in self.args.seeds[: self.args.seeds.index(step.seed) + 1]]
        cmd = [
            sys.executable,
            "-m",
            "attncv.bench",
            "sweep",
            "--recipe",
            "fast",
            "--profile",
            self.args.profile,
            "--seeds",
            *map(str, seeds),
            "--resume",
            "--out",
            str(self.sweep_path()),
        ]
        if self.args.names:
            cmd += ["--names", *self.args.names]
        rc = self.execute(cmd + sweep_extra(self.args), timeout)
        want, have = self.sweep_runs(step.seed)
        if rc == 0 and have == want:
            return "done", f"{len(have)} runs"
        if rc is None or (rc != 0 and have):
            status = "partial" if have else ("stopped" if rc is None else "failed")
            return status, f"{len(have)} of {len(want)} runs saved; the next call goes on"
        return "failed", f"exit status {rc}"

    def sweep_runs(self, seed: int | None) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
        """The (module, seed) runs a seed's step needs, and those of them in the sweep's JSON."""
        names = self.args.names or self.info.get("modules") or REGISTRY
        want = {(n, seed) for n in ["none", *names]}
        if not self.sweep_path().is_file():
            return want, set()
        runs = json.loads(self.sweep_path().read_text()).get("runs", [])
        return want, {(r["name"], r["seed"]) for r in runs} & want

    def refresh_sweeps(self, steps: list[Step]) -> None:
        """A seed's step goes on with the unfinished runs of earlier seeds: mark those done."""
        for step in steps:
            if step.kind == "sweep" and self.status(step) in ("partial", "stopped"):
                want, have = self.sweep_runs(step.seed)
                if have == want:
                    note = f"{len(have)} runs, finished by a later step"
                    self.record(step, status="done", note=note, uncalibrated=True)

    def run_timm(self, step: Step, timeout: float) -> tuple[str, str]:
        if not self.info.get("timm"):
            return "failed", "timm is not installed here"
        cmd = [sys.executable, "-m", "attncv.bench", "timm", "--out", str(self.timm_path())]
        if self.args.timm_names:
            cmd += ["--names", *self.args.timm_names]
        self.timm_path().unlink(missing_ok=True)
        rc = self.execute(cmd + timm_extra(self.args), timeout)
        if rc == 0 and self.timm_path().is_file():
            return "done", ""
        self.timm_path().unlink(missing_ok=True)
        return ("stopped", "out of time") if rc is None else ("failed", f"exit status {rc}")

    def files(self, step: Step) -> list[str]:
        if step.kind == "notebook":
            assert step.notebook
            paths = [self.notebook_path(step.notebook)]
        elif step.kind == "sweep":
            paths = [self.sweep_path()]
        else:
            paths = [self.timm_path()]
        return [str(p.relative_to(self.state_dir)) for p in paths if p.exists()]

    def reset_sweep_if_changed(self, steps: list[Step]) -> None:
        sweeps = [s for s in steps if s.kind == "sweep"]
        stale = [s for s in sweeps if self.status(s) == "changed"]
        if stale:
            self.log("the sweep's modules or sizes changed: starting its JSON over")
            self.sweep_path().unlink(missing_ok=True)
            for s in sweeps:
                self.state["steps"].pop(s.id, None)
            self.save_state()
