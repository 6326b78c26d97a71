"""The GPU day in one command: every chapter notebook and the benchmark, re-executed on a GPU.

Run on the GPU machine from the project root, in a copy of the working tree that carries `gpu/`
(made here by `scripts/gpu_prepare.py`: the Jupyter wheels, the offline data, the commit):

    make gpu                     # = python3 scripts/gpu_run.py: brief profile, 540 s budget
    python3 scripts/gpu_run.py --plan            # the steps, their estimates, what is done

It installs what the machine lacks from `gpu/wheels` (no internet), then, in this order, stopping
before a step that would not fit in the time budget:

  1. every chapter notebook in the brief profile (baseline first, then the table of contents'
     order), executed top to bottom in a fresh kernel with widget state stored;
  2. the benchmark's fast sweep, seed by seed (`python -m attncv.bench sweep --resume`; the sweep
     saves after every run, so a stopped seed keeps its finished runs);
  3. the timm comparison (`python -m attncv.bench timm`); bf16 and channels_last on a GPU;
  4. the notebooks that read those results (the benchmark chapter).

What it finishes goes to `.gpu-run/` (ignored, not carried: it survives on a warm machine, so a
second call skips what is done) and, after every step, to `$OUT` as four files: `gpu-run.zip`
(executed notebooks, result JSONs, state, log, summary), `summary.md`, `summary.json` and
`gpu-run.log`. A cold machine resumes from a previous call's zip carried in `gpu/resume/`
(`scripts/gpu_prepare.py --resume-from FILES_AT`). `scripts/gpu_collect.py FILES_AT` checks the
files and puts them in place under `chapters/`.

Exit status: 0 all done, 3 stopped for time (call again: it resumes), 1 a step failed, 2 bad set-up.
The smoke profile rehearses every step on a CPU in about a minute (tests/scripts/test_gpu_run.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
ROOT = Path(__file__).resolve().parents[1]
RESERVE = 5.0  # seconds kept back for the summary and the zip after the last step

# Seconds per step for the brief profile on an H100/H200 (bf16, channels_last): guesses made
# before any GPU run (the baseline's brief training at the course's target of ~30,000 images/s
# is ~7 s; kernel start, CUDA start, figures and throughput tables add ~15 s a notebook). The
# summary prints measured against estimated time; the run scales later estimates by what it saw.
NOTEBOOK_SECONDS = {
    "brief": {
        "baseline": 30,
        "explorers": 25,
        "self_attention": 35,
        "non_local": 35,
        "spatial_transformer": 40,
        "se": 25,
        "sk": 35,
        "eca": 35,
        "cbam": 70,  # two trainings: CIFAR and the canvases (also danet, coordinate)
        "danet": 45,
        "ccnet": 35,
        "residual_attention": 45,
        "coordinate_attention": 40,
        "benchmark": 20,
    },
    "smoke": {"benchmark": 300},  # a 2-core CPU: ~10-30 s a notebook; benchmark trains a sweep
}
DEFAULT_NOTEBOOK_SECONDS = {"brief": 40, "smoke": 25}
# The fast recipe (15 epochs of all 10,000 carried images at batch 512, plus 50 timed steps)
# per module, and a sweep process's start (imports, data onto the GPU).
SWEEP_SECONDS = {
    "brief": {
        "none": 8,
        "se": 9,
        "sk": 16,
        "eca": 9,
        "self_attention": 12,
        "non_local": 12,
        "stn": 10,
        "cbam": 11,
        "danet": 13,
        "ccnet": 14,
        "residual_attention": 22,
        "coordinate_attention": 10,
    },
    "smoke": {},
}
DEFAULT_SWEEP_SECONDS = {"brief": 12, "smoke": 4}
PROCESS_SECONDS = {"brief": 10, "smoke": 8}
TIMM_SECONDS = {"brief": 90, "smoke": 15}
REGISTRY = list(SWEEP_SECONDS["brief"])  # registry.names() (a test keeps them equal)

# Tiny sizes for the smoke rehearsal, so every step runs in seconds on a CPU.
SMOKE_SWEEP = ["--train-size", "100", "--test-size", "50", "--epochs", "1", "--cost-steps", "1"]
SMOKE_TIMM = ["--batch-size", "4", "--steps", "1", "--repeats", "1", "--width", "16"]

AFTER_RESULTS = ("benchmark",)  # notebooks that read the sweep and timm JSONs: run them last

# FitResult.summary(), three lines: "name: test accuracy A% (best B%) after N epochs",
# "  S s of training (I images/s) on DEVICE", "  data: DATASET" (tests/scripts/test_gpu_run.py
# checks this against attncv.train.FitResult).
SUMMARY_LINE = re.compile(
    r"^(?P<name>[^\n:]+?): test accuracy (?P<accuracy>[\d.]+|nan)% \(best (?P<best>[\d.]+|nan)%\)"
    r" after (?P<epochs>\d+) epochs?\n  (?P<seconds>[\d.]+) s of training "
    r"\((?P<images_per_second>[\d,]+) images/s\) on (?P<device>[^\n]+)\n  data: (?P<dataset>.+)",
    re.M,
)

# attncv.train.runs.cached_line: a run loaded from the runs cache, one line.
CACHED_LINE = re.compile(
    r"^(?P<name>[^\n:]+?): test accuracy (?P<accuracy>[\d.]+|nan)% after (?P<epochs>\d+) "
    r"epochs?, loaded from the runs cache",
    re.M,
)

PROBE = r"""
import importlib.metadata as md, importlib.util as iu, json, sys
info = {"python": sys.version.split()[0]}
try:
    import torch
    info["torch"] = torch.__version__
    info["cuda"] = torch.cuda.is_available()
    info["device"] = torch.cuda.get_device_name(0) if info["cuda"] else "CPU"
except Exception as exc:
    info["torch_error"] = repr(exc)
for mod, dist in [("nbclient",) * 2, ("nbformat",) * 2, ("ipykernel",) * 2, ("IPython", "ipython"),
                  ("ipywidgets",) * 2, ("timm",) * 2, ("matplotlib",) * 2]:
    try:
        info[mod] = md.version(dist) if iu.find_spec(mod) else None
    except Exception:
        info[mod] = "?" if iu.find_spec(mod) else None
try:
    from attncv.attention import registry
    info["modules"] = registry.names()
except Exception as exc:
    info["attncv_error"] = repr(exc)
print(json.dumps(info))
"""
JUPYTER = ("nbclient", "nbformat", "ipykernel", "IPython", "ipywidgets")


# ---------------------------------------------------------------------------------------------
# Small helpers


def elapsed() -> float:
    return time.monotonic() - STARTED


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``path`` so that a reader, or a kill half-way, never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def library_hash(root: Path) -> str:
    """The library's source, as attncv's runs cache keys it: any change redoes the whole run."""
    files = sorted((root / "src" / "attncv").rglob("*.py"))
    return digest(*(p.read_bytes() for p in files))


def notebook_hash(path: Path) -> str:
    """A notebook's cells (type, source), not its outputs: the step's input."""
    cells = json.loads(path.read_text()).get("cells", [])
    return digest(json.dumps([(c.get("cell_type"), "".join(c.get("source", ""))) for c in cells]))


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc): a notebook's kernel runs in its own session."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stop_tree(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a step's process and everything it started (by process id): SIGTERM, then SIGKILL."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 2
    for pid in pids:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if proc.poll() is None:
        proc.wait()


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass
class Step:
    """One unit of work; ``id`` is also its key in the state."""

    id: str
    kind: str  # "notebook", "sweep" or "timm"
    estimate: float  # seconds, before calibration
    first: float  # the least time worth starting with (a sweep keeps each finished run)
    key: str  # a digest of the step's inputs: a done step is redone when it changes
    needs: list[str] = field(default_factory=list)
    notebook: str | None = None  # path relative to the root
    seed: int | None = None


def discover_notebooks(root: Path) -> list[str]:
    """Every notebook under chapters/: the table of contents' order first, then the rest."""
    found = sorted(
        str(p.relative_to(root))
        for p in (root / "chapters").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    toc = root / "_toc.yml"
    order = re.findall(r"file:\s*(\S+)", toc.read_text()) if toc.exists() else []
    rank = {f"{f.removesuffix('.ipynb')}.ipynb": i for i, f in enumerate(order)}
    return sorted(found, key=lambda p: (rank.get(p, len(rank)), p))


def stem(notebook: str) -> str:
    return Path(notebook).stem


def plan(args: argparse.Namespace, root: Path) -> list[Step]:
    """The steps in the order they run: the baseline, the other chapters, the sweep seed by
    seed, timm, then the notebooks that read the sweep and timm results."""
    profile = args.profile
    notebooks = args.notebooks or discover_notebooks(root)
    notebooks = [str(Path(n)) for n in notebooks]
    for nb in notebooks:
        if not (root / nb).is_file():
            raise SystemExit(f"error: no notebook {nb} under {root}")
    later = [n for n in notebooks if stem(n) in args.after_results]
    first = [n for n in notebooks if n not in later]
    first.sort(key=lambda n: stem(n) != "baseline")  # the baseline first; otherwise toc order
    steps: list[Step] = []
    table, default = NOTEBOOK_SECONDS[profile], DEFAULT_NOTEBOOK_SECONDS[profile]
    for nb in first:
        estimate = table.get(stem(nb), default)
        steps.append(
            Step(f"notebook {nb}", "notebook", estimate, estimate, notebook_hash(root / nb), [], nb)
        )
    names = ["none", *[n for n in (args.names or REGISTRY) if n != "none"]]
    per_run, default_run = SWEEP_SECONDS[profile], DEFAULT_SWEEP_SECONDS[profile]
    run_seconds = sum(per_run.get(n, default_run) for n in names)
    start = PROCESS_SECONDS[profile]
    sweep_key = digest(json.dumps([profile, names, sweep_extra(args)]))
    for seed in args.seeds:
        steps.append(
            Step(
                f"sweep seed {seed}",
                "sweep",
                start + run_seconds,
                start + per_run.get("none", default_run),
                sweep_key,
                seed=seed,
            )
        )
    timm_key = digest(json.dumps([profile, args.timm_names, timm_extra(args)]))
    steps.append(Step("timm", "timm", TIMM_SECONDS[profile], TIMM_SECONDS[profile], timm_key))
    results = [s.id for s in steps if s.kind in ("sweep", "timm")]
    for nb in later:
        estimate = table.get(stem(nb), default)
        steps.append(
            Step(
                f"notebook {nb}",
                "notebook",
                estimate,
                estimate,
                notebook_hash(root / nb),
                results,
                nb,
            )
        )
    return steps


def sweep_extra(args: argparse.Namespace) -> list[str]:
    return (SMOKE_SWEEP if args.profile == "smoke" else []) + shlex.split(args.sweep_args)


def timm_extra(args: argparse.Namespace) -> list[str]:
    return (SMOKE_TIMM if args.profile == "smoke" else []) + shlex.split(args.timm_args)


# ---------------------------------------------------------------------------------------------
# The run


class Run:
    """State, logging and products of one call, in ``state_dir`` (kept between calls)."""

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

    # -- state --------------------------------------------------------------------------------
    def fingerprint(self) -> dict[str, str]:
        return {
            "profile": self.args.profile,
            "device": self.kind,
            "library": library_hash(self.root),
        }

    def load_state(self) -> None:
        """This machine's state (a warm machine) if it matches; else, on a machine with none (a
        cold one), a carried zip's from an earlier call if that matches; else a new one."""
        want = self.fingerprint()
        if self.args.fresh:
            self.log(f"--fresh: forgetting earlier calls ({self.state_dir})")
            shutil.rmtree(self.products, ignore_errors=True)
            self.state_path.unlink(missing_ok=True)
        state = json.loads(self.state_path.read_text()) if self.state_path.exists() else None
        if state and state.get("fingerprint") != want:
            self.log(
                "the state here was made with another profile, device or library source: "
                "starting over"
            )
            shutil.rmtree(self.products, ignore_errors=True)
            state = None
        carried = self.resume_zip()
        if state is None and carried is not None and not self.args.fresh:
            state = self.import_zip(carried, want)
        if state is None:
            state = {"fingerprint": want, "steps": {}, "calls": []}
        state["calls"].append(
            {"started": now(), "device": self.info.get("device"), "budget": self.budget}
        )
        self.state = state
        self.save_state()

    def resume_zip(self) -> Path | None:
        if self.args.resume_from:
            path = Path(self.args.resume_from)
            path = path / "gpu-run.zip" if path.is_dir() else path
            if not path.is_file():
                raise SystemExit(f"error: --resume-from {path}: no such zip")
            return path
        default = self.carry / "resume" / "gpu-run.zip"
        return default if default.is_file() else None

    def import_zip(self, path: Path, want: dict[str, str]) -> dict[str, Any] | None:
        """An earlier call's state and products, from its zip; None if made otherwise."""
        with zipfile.ZipFile(path) as z:
            theirs = json.loads(z.read("state.json"))
            if theirs.get("fingerprint") != want:
                self.log(f"{path}: made with another profile, device or library source: ignored")
                return None
            for name in z.namelist():
                if name.startswith("products/") and not name.endswith("/"):
                    write_atomic(self.state_dir / name, z.read(name))
        steps = theirs.get("steps", {})
        for entry in steps.values():
            entry["from"] = path.name  # not counted when calibrating this machine's estimates
        kept = [sid for sid, e in steps.items() if e.get("status") in ("done", "partial")]
        self.log(f"resuming from {path}: {', '.join(kept) or 'nothing finished'}")
        return theirs

    def save_state(self) -> None:
        write_atomic(self.state_path, json.dumps(self.state, indent=1) + "\n")

    def record(self, step: Step, **fields: Any) -> None:
        entry = self.state["steps"].setdefault(step.id, {})
        entry.update(fields, key=step.key, estimate=step.estimate, at=now())
        self.save_state()

    def status(self, step: Step) -> str | None:
        entry = self.state["steps"].get(step.id)
        if not entry:
            return None
        if entry.get("key") != step.key:
            return "changed"
        return entry.get("status")

    # -- set-up -------------------------------------------------------------------------------
    def setup_env(self) -> None:
        env = self.env
        site = self.state_dir / "site"
        paths = [str(site)] if site.is_dir() else []
        paths.append(str(self.root / "src"))
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONUNBUFFERED"] = "1"
        env["ATTNCV_PROFILE"] = self.args.profile
        env["ATTNCV_PROGRESS"] = "log"
        env["ATTNCV_OFFLINE"] = "1"
        env["ATTNCV_RUNS"] = str(self.state_dir / "runs")
        env["ATTNCV_CACHE"] = str(self.state_dir / "cache")
        env.pop("CI", None)  # the profile is chosen above, not by CI=true
        data = self.carry / "data"
        if data.is_dir():
            env["ATTNCV_DATA"] = str(data)
        elif not env.get("ATTNCV_DATA"):
            env.pop("ATTNCV_DATA", None)
            self.notes.append(
                f"no data in {data} and ATTNCV_DATA unset: the loader's substitute ran (see "
                "each result's dataset)"
            )
        commit = self.carry / "COMMIT"
        if commit.is_file():  # where the tree travelled without .git (attncv.bench.provenance)
            told = json.loads(commit.read_text())
            env.setdefault("ATTNCV_GIT_COMMIT", told.get("commit") or "")
            env.setdefault("ATTNCV_GIT_DIRTY", "1" if told.get("dirty") else "0")
        kernels = self.state_dir / "jupyter" / "kernels" / "python3"
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (attncv GPU run)",
            "language": "python",
        }
        write_atomic(kernels / "kernel.json", json.dumps(spec, indent=1))
        jupyter_path = [str(self.state_dir / "jupyter")]
        if env.get("JUPYTER_PATH"):
            jupyter_path.append(env["JUPYTER_PATH"])
        env["JUPYTER_PATH"] = os.pathsep.join(jupyter_path)

    def probe(self) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise SystemExit(f"error: probing this Python failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def install(self) -> None:
        """Jupyter from the carried wheels, where this Python lacks it (the GPU machine)."""
        info = self.probe()
        if all(info.get(m) for m in JUPYTER):
            self.log("Jupyter is there: " + ", ".join(f"{m} {info[m]}" for m in JUPYTER))
            self.info = info
            return
        wheels = sorted((self.carry / "wheels").glob("*.whl"))
        if not wheels:
            raise SystemExit(
                f"error: this Python lacks {', '.join(m for m in JUPYTER if not info.get(m))} "
                f"and {self.carry}/wheels holds no wheels: run scripts/gpu_prepare.py first"
            )
        site = self.state_dir / "site"
        self.log(f"installing {len(wheels)} wheels from {self.carry}/wheels into {site}")
        t = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-index",
                "--no-deps",
                "--no-compile",
                "--no-cache-dir",
                "--upgrade",
                "--target",
                str(site),
                *map(str, wheels),
            ],
            check=True,
            env=self.env,
        )
        if str(site) not in self.env["PYTHONPATH"].split(os.pathsep):
            self.env["PYTHONPATH"] = os.pathsep.join([str(site), self.env["PYTHONPATH"]])
        check = subprocess.run(  # imported for real: a wheel that needs more fails here
            [sys.executable, "-c", "import nbclient, nbformat, ipykernel.kernelapp, ipywidgets"],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise SystemExit(f"error: Jupyter does not import after installing:\n{check.stderr}")
        info = self.probe()
        self.log(f"installed in {time.monotonic() - t:.1f} s")
        self.info = info

    # -- steps --------------------------------------------------------------------------------
    def sweep_path(self) -> Path:
        return self.products / "results" / f"benchmark-fast-{self.kind}.json"

    def timm_path(self) -> Path:
        return self.products / "results" / f"timm-{self.kind}.json"

    def notebook_path(self, notebook: str) -> Path:
        rel = (
            Path(notebook).relative_to("chapters") if notebook.startswith("chapters") else notebook
        )
        return self.products / "notebooks" / rel

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
            str(Path(__file__).resolve()),
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

    def factor(self) -> float:
        """Measured over estimated seconds of the steps finished so far (all calls): how much to
        scale the estimates of the rest; 1 before any, kept within 0.5 to 3."""
        ratios = [
            r["seconds"] / r["estimate"]
            for r in self.state["steps"].values()
            if r.get("status") == "done"
            and r.get("seconds")
            and r.get("estimate")
            and not r.get("from")
            and not r.get("uncalibrated")
        ]
        return min(3.0, max(0.5, statistics.median(ratios))) if ratios else 1.0

    def reset_sweep_if_changed(self, steps: list[Step]) -> None:
        sweeps = [s for s in steps if s.kind == "sweep"]
        stale = [s for s in sweeps if self.status(s) == "changed"]
        if stale:
            self.log("the sweep's modules or sizes changed: starting its JSON over")
            self.sweep_path().unlink(missing_ok=True)
            for s in sweeps:
                self.state["steps"].pop(s.id, None)
            self.save_state()

    def run(self, steps: list[Step]) -> int:
        self.reset_sweep_if_changed(steps)
        for step in steps:  # a notebook edited since it ran: its old output is stale
            if self.status(step) == "changed":
                for f in self.state["steps"].pop(step.id).get("files", []):
                    (self.state_dir / f).unlink(missing_ok=True)
        failed = False
        for step in steps:
            status = self.status(step)
            if status == "done":
                self.log(f"{step.id}: done earlier, skipped")
                continue
            if status == "failed" and not self.args.retry_failed:
                self.log(f"{step.id}: failed earlier (--retry-failed to try again), skipped")
                failed = True
                continue
            waiting = [
                n for n in step.needs if self.state["steps"].get(n, {}).get("status") != "done"
            ]
            if waiting:
                self.log(f"{step.id}: waits for {', '.join(waiting)}")
                self.note_skip(step, f"waits for {', '.join(waiting)}")
                continue
            factor = self.factor()
            need, estimate = step.first * factor, step.estimate * factor
            left = self.left() - RESERVE
            if left < need:
                self.log(f"{step.id}: needs ~{need:.0f} s, {max(left, 0):.0f} s left: not started")
                self.note_skip(step, f"no time: needs ~{need:.0f} s, {max(left, 0):.0f} s left")
                continue
            self.log(f"{step.id}: starting (estimate {estimate:.0f} s, {left:.0f} s left)")
            t = time.monotonic()
            runner = {"notebook": self.run_notebook, "sweep": self.run_sweep, "timm": self.run_timm}
            self.running = step
            result, note = runner[step.kind](step, left)
            self.running = None
            seconds = time.monotonic() - t
            self.log(f"{step.id}: {result} in {seconds:.1f} s" + (f" ({note})" if note else ""))
            self.record(step, status=result, seconds=seconds, note=note, files=self.files(step))
            if step.kind == "sweep":
                self.refresh_sweeps(steps)
            failed |= result == "failed"
            self.publish(steps)
        return self.finish(steps, failed)

    def note_skip(self, step: Step, why: str) -> None:
        entry = self.state["steps"].setdefault(step.id, {})
        if entry.get("status") in (None, "skipped"):
            entry.update(status="skipped", note=why, key=step.key, estimate=step.estimate)
        else:
            entry["note"] = why
        self.save_state()

    def finish(self, steps: list[Step], failed: bool = False) -> int:
        self.state["calls"][-1]["seconds"] = round(elapsed(), 1)
        self.save_state()
        summary = self.publish(steps)
        if failed:
            return 1
        return 0 if summary["complete"] else 3

    # -- products -----------------------------------------------------------------------------
    def publish(self, steps: list[Step]) -> dict[str, Any]:
        """Write the summary and copy everything finished to $OUT (after every step)."""
        summary = make_summary(self, steps)
        write_atomic(self.state_dir / "summary.json", json.dumps(summary, indent=1) + "\n")
        write_atomic(self.state_dir / "summary.md", summary_markdown(summary))
        self.out.mkdir(parents=True, exist_ok=True)
        buffer = self.out / ".gpu-run.zip.tmp"
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(self.products.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    z.write(path, str(path.relative_to(self.state_dir)))
            for name in ("state.json", "summary.json", "summary.md", "gpu-run.log"):
                if (self.state_dir / name).exists():
                    z.write(self.state_dir / name, name)
        os.replace(buffer, self.out / "gpu-run.zip")
        for name in ("summary.json", "summary.md", "gpu-run.log"):
            if (self.state_dir / name).exists():
                copy_atomic(self.state_dir / name, self.out / name)
        return summary


# ---------------------------------------------------------------------------------------------
# The summary


def accuracy_lines(notebook: Path) -> list[dict[str, Any]]:
    """The FitResult summary lines printed in a notebook's outputs, each once, parsed."""
    nb = json.loads(notebook.read_text())
    seen, found = set(), []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            plain = out.get("data", {}).get("text/plain", "")
            text += "\n" + ("".join(plain) if isinstance(plain, list) else plain)
            for m in SUMMARY_LINE.finditer(text):
                if m.group(0) in seen:
                    continue
                seen.add(m.group(0))
                row = m.groupdict()
                found.append(
                    {
                        "name": row["name"].strip(),
                        "device": row["device"].strip(),
                        "epochs": int(row["epochs"]),
                        "seconds": float(row["seconds"]),
                        "images_per_second": float(row["images_per_second"].replace(",", "")),
                        "test_accuracy": float(row["accuracy"]) / 100,
                        "best_accuracy": float(row["best"]) / 100,
                    }
                )
            for m in CACHED_LINE.finditer(text):
                name = m.group("name").strip()
                if m.group(0) in seen or any(r["name"] == name for r in found):
                    continue
                seen.add(m.group(0))
                found.append(
                    {
                        "name": name,
                        "epochs": int(m.group("epochs")),
                        "test_accuracy": float(m.group("accuracy")) / 100,
                        "cached": True,
                    }
                )
    return found


def module_rows(sweep: Path | None, timm: Path | None) -> list[dict[str, Any]]:
    """Per module: the sweep's training images/s (fastest seed) and accuracy (mean over seeds),
    and ours / timm's training images/s from the timm comparison."""
    runs = json.loads(sweep.read_text()).get("runs", []) if sweep and sweep.is_file() else []
    twins = (
        {r["name"]: r for r in json.loads(timm.read_text()).get("rows", [])}
        if (timm and timm.is_file())
        else {}
    )
    names = list(dict.fromkeys([r["name"] for r in runs] + list(twins)))
    rows = []
    for name in names:
        mine = [r for r in runs if r["name"] == name]
        twin = twins.get(name, {})
        rows.append(
            {
                "name": name,
                "seeds": sorted(r["seed"] for r in mine),
                "final_acc": statistics.mean(r["final_acc"] for r in mine) if mine else None,
                "train_ips": max(r["train_ips"] for r in mine) if mine else None,
                "timm_ratio": twin.get("ratio"),
                "timm_train_ips": twin.get("train_timm"),
                "timm_precision": twin.get("precision"),
            }
        )
    return rows


def make_summary(run: Run, steps: list[Step]) -> dict[str, Any]:
    states = run.state["steps"]
    rows = []
    for step in steps:
        entry = states.get(step.id, {})
        rows.append(
            {
                "step": step.id,
                "status": entry.get("status", "not started"),
                "seconds": round(entry["seconds"], 1) if entry.get("seconds") else None,
                "estimate": step.estimate,
                "note": entry.get("note", ""),
            }
        )
    notebooks = []
    for step in steps:
        if step.kind != "notebook":
            continue
        assert step.notebook
        path = run.notebook_path(step.notebook)
        entry = states.get(step.id, {})
        notebooks.append(
            {
                "notebook": step.notebook,
                "status": entry.get("status", "not started"),
                "seconds": round(entry["seconds"], 1) if entry.get("seconds") else None,
                "accuracy": accuracy_lines(path) if path.is_file() else [],
            }
        )
    complete = all(states.get(s.id, {}).get("status") == "done" for s in steps)
    return {
        "complete": complete,
        "profile": run.args.profile,
        "device": run.info.get("device"),
        "versions": {k: run.info.get(k) for k in ("python", "torch", "timm", "nbclient")},
        "commit": run.env.get("ATTNCV_GIT_COMMIT"),
        "budget_seconds": run.budget,
        "call": len(run.state.get("calls", [])),
        "call_seconds": round(elapsed(), 1),
        "estimate_factor": round(run.factor(), 2),
        "steps": rows,
        "notebooks": notebooks,
        "modules": module_rows(run.sweep_path(), run.timm_path()),
        "not_done": [
            r["step"] + (f": {r['note']}" if r["note"] else "")
            for r in rows
            if r["status"] != "done"
        ],
        "notes": run.notes,
        "written": now(),
    }


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def summary_markdown(s: dict[str, Any]) -> str:
    out = [
        f"# GPU run: {'complete' if s['complete'] else 'partial'}",
        "",
        f"Device: {s['device']}; profile {s['profile']}; call {s['call']} took "
        f"{s['call_seconds']} s of a {s['budget_seconds']:.0f} s budget; measured / estimated "
        f"time so far: x{s['estimate_factor']}.",
        "",
        "| step | status | seconds | estimate | note |",
        "|---|---|---:|---:|---|",
    ]
    for r in s["steps"]:
        secs = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        out.append(f"| {r['step']} | {r['status']} | {secs} | {r['estimate']:.0f} | {r['note']} |")
    out += ["", "## Notebooks", "", "| notebook | status | seconds | test accuracy |"]
    out.append("|---|---|---:|---|")
    for nb in s["notebooks"]:
        accs = "; ".join(
            f"{a['name']} {_pct(a['test_accuracy'])} "
            + (
                "(from the runs cache)"
                if a.get("cached")
                else f"({a['images_per_second']:,.0f} img/s, {a['device']})"
            )
            for a in nb["accuracy"]
        )
        secs = "" if nb["seconds"] is None else f"{nb['seconds']:.1f}"
        out.append(f"| {nb['notebook']} | {nb['status']} | {secs} | {accs} |")
    out += ["", "## Modules (fast sweep, timm comparison)", ""]
    out += ["| module | seeds | final acc. | train img/s | ours / timm | timm img/s |"]
    out.append("|---|---|---:|---:|---:|---:|")
    for m in s["modules"]:
        ips = "" if m["train_ips"] is None else f"{m['train_ips']:,.0f}"
        ratio = "" if m["timm_ratio"] is None else f"{m['timm_ratio']:.2f}"
        theirs = "" if m["timm_train_ips"] is None else f"{m['timm_train_ips']:,.0f}"
        seeds = " ".join(map(str, m["seeds"]))
        out.append(
            f"| {m['name']} | {seeds} | {_pct(m['final_acc'])} | {ips} | {ratio} | {theirs} |"
        )
    if s["not_done"]:
        out += ["", "## Not done", ""] + [f"- {x}" for x in s["not_done"]]
    if s["notes"]:
        out += ["", "## Notes", ""] + [f"- {x}" for x in s["notes"]]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# One notebook, in a child process (so that a budget stop can end it and its kernel)


def execute_notebook(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gpu_run.py _notebook")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--failed", required=True)
    p.add_argument("--profile", required=True)
    p.add_argument("--device-name", default=None)
    p.add_argument("--timeout", type=int, default=600)
    a = p.parse_args(argv)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    source = Path(a.source)
    nb = nbformat.read(source, as_version=4)
    started = time.monotonic()
    last = [started]

    def on_cell_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        t = time.monotonic()
        lines = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                lines += out.get("text", "").splitlines()
            elif out.get("output_type") == "error":
                lines.append(f"{out.get('ename')}: {out.get('evalue')}")
        shown = lines if len(lines) <= 12 else lines[:4] + ["..."] + lines[-7:]
        print(f"cell {cell_index} in {t - last[0]:.1f} s", flush=True)
        for line in shown:
            print(f"    {line[:200]}", flush=True)
        last[0] = t

    def stop(signum: int, frame: Any) -> None:
        os._exit(128 + signum)  # the runner stops the kernel too, by its process id

    signal.signal(signal.SIGTERM, stop)
    client = NotebookClient(
        nb,
        timeout=a.timeout,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(source.parent)}},
        on_cell_executed=on_cell_executed,
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        write_atomic(Path(a.failed), nbformat.writes(nb) + "\n")  # as far as it ran, to debug
        print(f"FAILED: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}")
        return 1
    seconds = time.monotonic() - started
    nb.metadata["attncv"] = {
        "executed_by": "scripts/gpu_run.py",
        "profile": a.profile,
        "device": a.device_name,
        "seconds": round(seconds, 1),
        "executed": now(),
    }
    target = Path(a.target)
    write_atomic(target, nbformat.writes(nb) + "\n")
    print(f"executed {source.name} in {seconds:.1f} s", flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# The command line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 scripts/gpu_run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", default="brief", choices=["brief", "smoke"])
    p.add_argument(
        "--budget",
        type=float,
        default=540,
        help="seconds this call may take, from its start; no step starts that would not end "
        "inside it (default 540, for a 600 s limit)",
    )
    p.add_argument(
        "--out", default=None, help="where the results go (default $OUT, else .gpu-run/out)"
    )
    p.add_argument(
        "--state", default=str(ROOT / ".gpu-run"), help="kept between calls (default .gpu-run/)"
    )
    p.add_argument(
        "--carry",
        default=str(ROOT / "gpu"),
        help="the carried folder: wheels/, data/, COMMIT, resume/ (default gpu/)",
    )
    p.add_argument(
        "--resume-from",
        default=None,
        help="a previous call's gpu-run.zip (or its "
        "folder); default gpu/resume/gpu-run.zip where present",
    )
    p.add_argument("--notebooks", nargs="*", help="default: every notebook under chapters/")
    p.add_argument("--names", nargs="*", help="the sweep's modules (default: all registered)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--timm-names", nargs="*", help="modules compared with timm (default: all)")
    p.add_argument(
        "--sweep-args",
        default="",
        help='more arguments for python -m attncv.bench sweep, e.g. "--cost-steps 20"',
    )
    p.add_argument("--timm-args", default="", help="more arguments for python -m attncv.bench timm")
    p.add_argument(
        "--after-results",
        nargs="*",
        default=list(AFTER_RESULTS),
        help="notebooks (by name) that read the sweep and timm results, run after them "
        f"(default: {' '.join(AFTER_RESULTS)})",
    )
    p.add_argument("--fresh", action="store_true", help="forget earlier calls and start over")
    p.add_argument("--retry-failed", action="store_true", help="run failed steps again")
    p.add_argument("--plan", action="store_true", help="print the steps and estimates; run none")
    p.add_argument(
        "--cpu-ok", action="store_true", help="allow the brief profile without a GPU (slow)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_notebook"]:
        return execute_notebook(argv[1:])
    args = parser().parse_args(argv)
    args.out = args.out or os.environ.get("OUT") or str(Path(args.state) / "out")
    root = ROOT
    steps = plan(args, root)
    run = Run(args, root)
    if args.plan:
        known = json.loads(run.state_path.read_text()) if run.state_path.exists() else {}
        total = sum(s.estimate for s in steps)
        for s in steps:
            entry = known.get("steps", {}).get(s.id, {})
            status = entry.get("status", "") if entry.get("key") == s.key else "to do"
            print(f"{s.estimate:6.0f} s  {s.id:55s} {status}")
        print(
            f"{total:6.0f} s  in all (estimates for the {args.profile} profile; "
            f"budget {args.budget:.0f} s a call)"
        )
        return 0
    run.log(f"gpu_run: profile {args.profile}, budget {args.budget:.0f} s, out {run.out}")
    code = set_up(run)
    if code is not None:
        run.copy_log()
        return code
    run.load_state()
    total = sum(s.estimate for s in steps)
    run.log(f"{len(steps)} steps, ~{total:.0f} s estimated in all (x{run.factor():.2f} so far)")

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        code = run.run(steps)
    except KeyboardInterrupt:
        if run.current is not None:
            stop_tree(run.current)
        if run.running is not None:
            run.record(run.running, status="stopped", note="interrupted")
        run.log("interrupted: the summary holds what was finished")
        run.finish(steps)
        code = 3
    meaning = {0: "all done", 1: "a step failed", 3: "more to do: call again"}[code]
    run.log(f"finished this call in {elapsed():.1f} s: exit {code} ({meaning})")
    run.copy_log()
    return code


def set_up(run: Run) -> int | None:
    """Environment, Jupyter, the device; an exit status if this machine cannot do the run."""
    run.setup_env()
    try:
        run.install()
    except subprocess.CalledProcessError as exc:
        run.log(f"error: installing the wheels failed: {exc}")
        return 2
    except SystemExit as exc:
        run.log(str(exc))
        return 2
    run.kind = "cuda" if run.info.get("cuda") else "cpu"
    run.log(
        f"device: {run.info.get('device')}; python {run.info.get('python')}, torch "
        f"{run.info.get('torch')}, timm {run.info.get('timm')}"
    )
    for problem in ("torch_error", "attncv_error"):
        if problem in run.info:
            run.log(f"error: {problem.split('_')[0]} does not import: {run.info[problem]}")
            return 2
    if run.kind == "cpu" and run.args.profile != "smoke" and not run.args.cpu_ok:
        run.log(
            "error: no GPU here; the brief profile would take hours on a CPU. Rehearse with "
            "--profile smoke, or pass --cpu-ok."
        )
        return 2
    return None


if __name__ == "__main__":
    sys.exit(main())
