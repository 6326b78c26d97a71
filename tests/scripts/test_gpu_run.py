"""The GPU run's command (scripts/gpu_run.py) rehearsed on a CPU in the smoke profile, so it cannot
rot while no GPU is available: every step type runs (notebooks, the sweep, timm, a notebook that
reads their results), a second call skips what is done, a small budget stops cleanly with a
partial summary, a cold machine resumes from the first call's zip, and scripts/gpu_collect.py
checks the files before it puts them in place."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from attncv.train import FitResult

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
NOTEBOOKS = ["chapters/baseline.ipynb", "chapters/channel/se.ipynb"]
OUT_FILES = {"gpu-run.zip", "summary.json", "summary.md", "gpu-run.log"}


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gpu_run = load("gpu_run")  # the entry script; it puts scripts/ on sys.path for its package
gpu_collect = load("gpu_collect")

from gpurun import cli, install, proc, summary  # noqa: E402
from gpurun.plan import REGISTRY, plan  # noqa: E402
from gpurun.run import Run  # noqa: E402

PACKAGE = ROOT / "scripts" / "gpurun"


def test_the_summary_line_pattern_reads_what_fit_prints() -> None:
    result = FitResult(
        "se (r=1)",
        "CIFAR-10 (offline substitute for CIFAR-100) [subset: 4,000 train / 1,000 test images]",
        "NVIDIA H200",
        {},
        [{"test_acc": 0.4}, {"test_acc": 0.5321}, {"test_acc": 0.52}],
        train_seconds=12.34,
        images_per_second=31_234.5,
    )
    m = summary.SUMMARY_LINE.search("some output\n" + result.summary() + "\nmore")
    assert m, result.summary()
    assert m["name"] == "se (r=1)" and m["device"] == "NVIDIA H200" and m["epochs"] == "3"
    assert m["accuracy"] == "52.0" and m["best"] == "53.2" and m["images_per_second"] == "31,234"


def test_a_runs_record_is_read_before_its_printed_lines(tmp_path) -> None:
    """A finished run's log output carries its record (what fit stores in a notebook): the
    summary reads the record, once, not the summary text beside it; a cached-run line without a
    record is still read from its text."""
    from attncv.train.progress import LogBlock
    from attncv.train.result import RUN_MIME
    from attncv.train.runs import cached_line

    assert summary.RUN_MIME == RUN_MIME
    result = FitResult("se", "CIFAR-10", "cpu", {}, [{"test_acc": 0.25}, {"test_acc": 0.5}])
    result.train_seconds, result.images_per_second = 3.0, 1000.0
    block = LogBlock(("se",), result.summary(), record=result.record() | {"name": "from record"})
    data = json.loads(json.dumps(block._repr_mimebundle_()))
    cached = FitResult("none", "CIFAR-10", "cpu", {}, [{"test_acc": 0.3}])
    cells = [
        {"outputs": [{"output_type": "display_data", "data": data}]},
        {"outputs": [{"output_type": "stream", "name": "stdout", "text": cached_line(cached)}]},
    ]
    nb = tmp_path / "chapter.ipynb"
    nb.write_text(json.dumps({"cells": cells}))
    rows = summary.accuracy_lines(nb)
    assert [r["name"] for r in rows] == ["from record", "none"]
    assert rows[0]["test_accuracy"] == 0.5 and rows[0]["best_accuracy"] == 0.5
    assert rows[0]["epochs"] == 2 and rows[0]["images_per_second"] == 1000.0
    assert rows[1] == {"name": "none", "epochs": 1, "test_accuracy": 0.3, "cached": True}


def test_the_plan_covers_every_notebook_in_value_order() -> None:
    args = cli.parser().parse_args([])
    steps = plan(args, ROOT)
    ids = [s.id for s in steps]
    found = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "chapters").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    assert sorted(s.notebook for s in steps if s.kind == "notebook") == found
    assert ids[0] == "notebook chapters/baseline.ipynb"
    kinds = [s.kind for s in steps]
    first_sweep, timm = kinds.index("sweep"), kinds.index("timm")
    assert set(kinds[:first_sweep]) == {"notebook"} and timm > first_sweep
    assert [s.seed for s in steps if s.kind == "sweep"] == [0, 1, 2]
    last = steps[-1]
    assert last.notebook == "chapters/benchmark.ipynb"
    assert set(last.needs) == {"sweep seed 0", "sweep seed 1", "sweep seed 2", "timm"}
    assert all(0 < s.first <= s.estimate for s in steps)


def test_the_estimates_know_every_registered_module() -> None:
    from attncv.attention import registry

    assert REGISTRY == registry.names()


def test_the_entry_script_runs_the_package() -> None:
    assert gpu_run.main is cli.main


def test_no_file_of_the_package_is_over_400_lines() -> None:
    lengths = {p.name: len(p.read_text().splitlines()) for p in sorted(PACKAGE.glob("*.py"))}
    assert "run.py" in lengths
    assert not {name: n for name, n in lengths.items() if n > 400}


def test_the_package_needs_only_the_standard_library() -> None:
    """The GPU machine runs it with a plain python3: no venv, attncv not installed. Only the
    notebook's child imports Jupyter, which the run installs from the carried wheels first."""
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert found - sys.stdlib_module_names == {"nbclient", "nbformat"}


def test_a_step_out_of_time_is_stopped_with_what_it_started(tmp_path) -> None:
    """A notebook's kernel runs in a session of its own: the budget guard ends it by its id."""
    args = cli.parser().parse_args(["--state", str(tmp_path / "state"), "--out", "x"])
    run = Run(args, ROOT)
    pid_file = tmp_path / "pid"
    script = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        " start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(120)\n"
    )
    t = time.monotonic()
    assert run.execute([sys.executable, "-c", script], timeout=3) is None  # stopped
    assert time.monotonic() - t < 20
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while proc.alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not proc.alive(grandchild)
    assert "started" in (tmp_path / "state" / "gpu-run.log").read_text()


def test_a_seed_left_partial_is_done_once_a_later_step_finished_its_runs(tmp_path) -> None:
    args = cli.parser().parse_args(
        ["--state", str(tmp_path), "--out", "x", "--names", "se", "--seeds", "0", "1"]
    )
    run = Run(args, ROOT)
    steps = [s for s in plan(args, ROOT) if s.kind == "sweep"]
    run.state = {"fingerprint": {}, "steps": {}, "calls": []}
    run.record(steps[0], status="partial", seconds=50.0)
    runs = [{"name": "none", "seed": 0}]
    run.sweep_path().parent.mkdir(parents=True)
    run.sweep_path().write_text(json.dumps({"runs": runs}))
    run.refresh_sweeps(steps)
    assert run.status(steps[0]) == "partial"  # se is still missing for seed 0
    run.sweep_path().write_text(json.dumps({"runs": runs + [{"name": "se", "seed": 0}]}))
    run.refresh_sweeps(steps)
    assert run.status(steps[0]) == "done" and run.status(steps[1]) is None
    assert run.factor() == 1.0  # its time was a partial one: not used to calibrate


def test_jupyter_is_installed_from_the_carried_wheels_where_missing(tmp_path, monkeypatch) -> None:
    wheels = tmp_path / "carry" / "wheels"
    wheels.mkdir(parents=True)
    dist = "attncv_gpu_probe-0.1.dist-info"
    with zipfile.ZipFile(wheels / "attncv_gpu_probe-0.1-py3-none-any.whl", "w") as z:
        z.writestr("attncv_gpu_probe/__init__.py", "HERE = True\n")
        z.writestr(
            f"{dist}/METADATA", "Metadata-Version: 2.1\nName: attncv-gpu-probe\nVersion: 0.1\n"
        )
        z.writestr(
            f"{dist}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr(f"{dist}/RECORD", "")
    args = cli.parser().parse_args(
        ["--state", str(tmp_path / "state"), "--carry", str(tmp_path / "carry"), "--out", "x"]
    )
    run = Run(args, ROOT)
    run.setup_env()
    answers = iter([{"nbclient": None}, {m: "1" for m in install.JUPYTER}])
    monkeypatch.setattr(run, "probe", lambda: next(answers))
    run.install()
    site = tmp_path / "state" / "site"
    assert (site / "attncv_gpu_probe" / "__init__.py").is_file()
    assert run.env["PYTHONPATH"].split(os.pathsep)[0] == str(site)


def call(tmp_path: Path, out: str, *extra: str) -> tuple[int, float]:
    carry = tmp_path / "carry"
    if not carry.exists():
        carry.mkdir()
        if SHARED_DATA.is_dir():  # the real offline data, as on the GPU machine
            (carry / "data").symlink_to(SHARED_DATA)
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "gpu_run.py"),
        "--profile",
        "smoke",
        "--carry",
        str(carry),
        "--out",
        str(tmp_path / out),
        "--notebooks",
        *NOTEBOOKS,
        "--after-results",
        "se",  # the benchmark chapter trains a dozen networks in smoke: se stands in for it
        "--names",
        "se",
        "--timm-names",
        "se",
        *extra,
    ]
    t = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    print(done.stdout[-3000:], done.stderr[-3000:])
    return done.returncode, time.monotonic() - t


def products(out: Path) -> set[str]:
    with zipfile.ZipFile(out / "gpu-run.zip") as z:
        return set(z.namelist())


# Over 30 s (about 55 s on two cores): four calls of the GPU run, each executing notebooks in
# fresh kernels and a sweep in its own process, is what the rehearsal is for; already lean (two
# notebooks, one module, one seed).
@pytest.mark.slow
def test_the_smoke_rehearsal_of_the_gpu_run(tmp_path) -> None:
    state = ["--state", str(tmp_path / "state"), "--seeds", "0"]
    before = {nb: (ROOT / nb).read_bytes() for nb in NOTEBOOKS}
    rc, first = call(tmp_path, "out1", *state, "--budget", "600")
    assert rc == 0
    out = tmp_path / "out1"
    assert {p.name for p in out.iterdir()} == OUT_FILES  # the device tool returns 8 files at most
    assert products(out) == {
        "products/notebooks/baseline.ipynb",
        "products/notebooks/channel/se.ipynb",
        "products/results/benchmark-fast-cpu.json",
        "products/results/timm-cpu.json",
        "state.json",
        "summary.json",
        "summary.md",
        "gpu-run.log",
    }
    assert {nb: (ROOT / nb).read_bytes() for nb in NOTEBOOKS} == before  # executed elsewhere
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["device"] == "CPU" and summary["profile"] == "smoke"
    assert [s["status"] for s in summary["steps"]] == ["done"] * 4
    assert [s["step"] for s in summary["steps"]][-1] == "notebook chapters/channel/se.ipynb"
    accuracy = {nb["notebook"]: nb["accuracy"] for nb in summary["notebooks"]}
    assert {a["name"] for a in accuracy["chapters/channel/se.ipynb"]} >= {"baseline", "se"}
    assert all(0 <= a["test_accuracy"] <= 1 for a in accuracy["chapters/baseline.ipynb"])
    modules = {m["name"]: m for m in summary["modules"]}
    assert modules["se"]["seeds"] == [0] and modules["se"]["train_ips"] > 0
    assert modules["se"]["timm_ratio"] > 0 and modules["none"]["timm_ratio"] is None
    assert "| se |" in (out / "summary.md").read_text()

    # A second call (a warm machine) skips everything the first one finished.
    rc, second = call(tmp_path, "out2", *state, "--budget", "600")
    assert rc == 0 and second < first
    log = (tmp_path / "out2" / "gpu-run.log").read_text().split("gpu_run: profile")[-1]
    assert log.count("done earlier, skipped") == 4 and "$ " not in log
    assert products(tmp_path / "out2") == products(out)

    # A budget too small for what is left: a clean stop, and a summary that says what is missing.
    rc, _ = call(tmp_path, "out3", *state[:2], "--seeds", "0", "1", "--budget", "1")
    assert rc == 3
    summary = json.loads((tmp_path / "out3" / "summary.json").read_text())
    status = {s["step"]: s for s in summary["steps"]}
    assert not summary["complete"] and status["sweep seed 0"]["status"] == "done"
    assert status["sweep seed 1"]["status"] == "skipped"
    assert "no time" in status["sweep seed 1"]["note"]
    assert status["notebook chapters/channel/se.ipynb"]["status"] == "done"
    assert any(x.startswith("sweep seed 1: no time") for x in summary["not_done"])

    # A cold machine (no state of its own) resumes from the first call's zip.
    cold = ["--state", str(tmp_path / "cold"), "--seeds", "0", "--resume-from", str(out)]
    rc, _ = call(tmp_path, "out4", *cold, "--budget", "1")
    assert rc == 0
    assert json.loads((tmp_path / "out4" / "summary.json").read_text())["complete"]

    # Collecting: checked first, written only when everything passes.
    repo = tmp_path / "repo"
    for nb in NOTEBOOKS:
        (repo / nb).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / nb, repo / nb)
    written, problems = gpu_collect.collect(out, repo)  # a CPU smoke run is no GPU result
    assert any("not a GPU" in p for p in problems) and any("not brief" in p for p in problems)
    assert (repo / NOTEBOOKS[0]).read_bytes() == before[NOTEBOOKS[0]]
    assert not (repo / "chapters" / "results").exists()
    written, problems = gpu_collect.collect(out, repo, allow_cpu=True, allow_smoke=True)
    assert not problems
    assert {str(p.relative_to(repo)) for p in written} == {
        *NOTEBOOKS,
        "chapters/results/benchmark-fast-cpu.json",
        "chapters/results/timm-cpu.json",
    }
    collected = json.loads((repo / NOTEBOOKS[1]).read_text())
    assert collected["metadata"]["attncv"]["profile"] == "smoke"
    edited = json.loads((repo / NOTEBOOKS[1]).read_text())
    edited["cells"][1]["source"] = "# rewritten since the run\n"
    (repo / NOTEBOOKS[1]).write_text(json.dumps(edited))
    _, problems = gpu_collect.collect(out, repo, allow_cpu=True, allow_smoke=True)
    assert any("changed since the run" in p for p in problems)
