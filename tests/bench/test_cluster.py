"""The sweep on Ray: two CPU tasks give the in-process sweep's rows; a worker that dies is
retried; a run that raises is named and the others kept; an interrupted sweep resumes with only
what is missing; without Ray, the install line.

Ray starts once for this module (about 10 s), with two CPUs and a clean environment; the
drivers that are interrupted are other processes joining it (``--address``). The runs are tiny
synthetic ones: CPU runs are deterministic at one thread, so Ray's and this process's agree."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import attncv
from attncv.bench.__main__ import main as bench_main
from attncv.bench.cluster import FAULT_VARIABLE, INSTALL
from attncv.bench.sweep import Sweep, sweep
from attncv.data import DataSubstituteWarning

pytestmark = pytest.mark.filterwarnings("ignore", category=DataSubstituteWarning)
SRC = str(Path(attncv.__file__).resolve().parents[1])
TINY = {"profile": "smoke", "train_size": 100, "test_size": 50, "cost_steps": 1}
ARGS = ["sweep", "--profile", "smoke", "--names", "se", "--seeds", "0", "1"]
ARGS += ["--train-size", "100", "--test-size", "50", "--cost-steps", "1"]
TIMING = {"train_ips", "epoch_seconds", "infer_ips", "peak_mb", "train_seconds"}
ALL = [("none", 0), ("se", 0), ("none", 1), ("se", 1)]


@pytest.fixture(scope="module")
def ray_address(one_thread):
    """A local Ray with two CPUs, started with no ``ATTNCV_*`` variables (each task gets its
    driver's) and with this checkout's attncv on the workers' path; its address."""
    ray = pytest.importorskip("ray")
    outside = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("ATTNCV_")}
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([SRC, *([path] if path else [])])
    try:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    finally:
        os.environ.update(outside)
        if path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = path
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _pairs(path: Path) -> list[tuple[str, int]]:
    return [(r["name"], r["seed"]) for r in Sweep.load(path).runs]


@pytest.mark.slow  # a local Ray (its start is shared: the module's fixture)
def test_two_cpu_tasks_give_the_same_rows_as_one_process(ray_address, capsys) -> None:
    on_ray = sweep(["se"], seeds=(0, 1), devices="cpu,cpu", **TINY)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]
    assert len(lines) == 4 and all(" on CPU (" in ln and "best-5" in ln for ln in lines)
    here = sweep(["se"], seeds=(0, 1), progress=False, **TINY)
    assert [(r["name"], r["seed"]) for r in on_ray.runs] == ALL
    for a, b in zip(on_ray.runs, here.runs, strict=True):
        assert {k: v for k, v in a.items() if k not in TIMING} == {
            k: v for k, v in b.items() if k not in TIMING
        }  # the same accuracies, losses, sizes, data and device (one thread each)
    assert on_ray.environment["devices"] == [here.environment["devices"][0]] * 2
    assert not on_ray.failed


@pytest.mark.slow  # a local Ray (its start is shared: the module's fixture)
def test_a_worker_that_dies_is_retried(ray_address, tmp_path, monkeypatch, capsys) -> None:
    died = tmp_path / "died"
    fault = {"name": "se", "seed": 1, "action": "exit", "once": str(died)}
    monkeypatch.setenv(FAULT_VARIABLE, json.dumps(fault))
    out = tmp_path / "retried.json"
    result = sweep(["se"], seeds=(0, 1), devices="cpu,cpu", out=out, **TINY)
    assert died.exists()  # the first attempt did exit its worker
    assert _pairs(out) == ALL and not result.failed  # every run once: the retry trained it
    assert "se seed 1 on CPU" in capsys.readouterr().out


@pytest.mark.slow  # a local Ray (its start is shared: the module's fixture)
def test_a_run_that_raises_is_named_and_the_others_kept(
    ray_address, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv(FAULT_VARIABLE, json.dumps({"name": "se", "seed": 0, "action": "raise"}))
    out = tmp_path / "failed.json"
    assert bench_main([*ARGS, "--devices", "cpu,cpu", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert "FAILED se seed 0" in printed.out and "1 runs failed: se seed 0" in printed.err
    assert _pairs(out) == [("none", 0), ("none", 1), ("se", 1)]
    (failed,) = Sweep.load(out).failed
    assert (failed["name"], failed["seed"]) == ("se", 0)
    assert "Traceback" in failed["traceback"] and "fails, as asked" in failed["traceback"]
    monkeypatch.delenv(FAULT_VARIABLE)
    assert bench_main([*ARGS, "--devices", "cpu,cpu", "--out", str(out), "--resume"]) == 0
    assert "[1/1" in capsys.readouterr().out  # only the failed run is trained again
    assert _pairs(out) == ALL and not Sweep.load(out).failed


@pytest.mark.slow  # a local Ray (its start is shared: the module's fixture)
def test_a_stopped_driver_keeps_its_finished_runs_and_resume_trains_the_rest(
    ray_address, tmp_path, capsys
) -> None:
    """A driver in another process joins the cluster (``--address``), finishes three runs while
    the fourth hangs, and gets SIGTERM (what a batch system sends); ``--resume`` then trains the
    fourth only."""
    out = tmp_path / "stopped.json"
    hang = {"name": "se", "seed": 1, "action": "sleep"}
    env = os.environ | {FAULT_VARIABLE: json.dumps(hang), "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "attncv.bench", *ARGS, "--devices", "cpu,cpu"]
    command += ["--address", ray_address, "--out", str(out)]
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_runs(out, 3, driver)
        driver.send_signal(signal.SIGTERM)
        stdout, stderr = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 130, stderr.decode()[-2000:]
    assert "Interrupted: 3 of 4 runs" in stdout.decode() and "--resume" in stderr.decode()
    assert _pairs(out) == [("none", 0), ("se", 0), ("none", 1)]
    assert bench_main([*ARGS, "--devices", "cpu,cpu", "--out", str(out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "keeping 3 runs" in printed and "[1/1" in printed and "[2/" not in printed
    assert _pairs(out) == ALL


@pytest.mark.slow  # a local Ray (its start is shared: the module's fixture)
def test_ctrl_c_cancels_the_run_in_flight(ray_address, tmp_path) -> None:
    """Ctrl-C (SIGINT) to a driver while the fourth run hangs: exit status 130, three runs kept.
    The driver is a command line of its own, with SIGINT's default disposition as a terminal
    gives it: a test run started in the background (``.ci/run &``) ignores SIGINT in every
    process it starts, which is how this test failed here twice."""
    _wait_until_idle()  # both CPUs free, so three runs can finish while the fourth hangs
    out = tmp_path / "interrupted.json"
    hang = {"name": "se", "seed": 1, "action": "sleep"}
    env = os.environ | {FAULT_VARIABLE: json.dumps(hang), "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "attncv.bench", *ARGS, "--devices", "cpu,cpu"]
    command += ["--address", ray_address, "--out", str(out)]
    driver = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not inherited SIG_IGN
    )
    try:
        _wait_for_runs(out, 3, driver)
        driver.send_signal(signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 130, stderr.decode()[-2000:]
    assert "Interrupted: 3 of 4 runs finished" in stdout.decode()
    assert _pairs(out) == [("none", 0), ("se", 0), ("none", 1)]


def _wait_until_idle(seconds: float = 90) -> None:
    """Until the module's local Ray has every CPU free again: a task of an earlier test (a driver
    that test killed) can hold a CPU for a while, and with one CPU the hanging run could be
    scheduled before the third, so no moment would have exactly three runs kept (CI saw it)."""
    import ray

    deadline = time.monotonic() + seconds
    while ray.available_resources().get("CPU", 0) < ray.cluster_resources().get("CPU", 0):
        assert time.monotonic() < deadline, f"the local Ray's CPUs not free within {seconds} s"
        time.sleep(0.5)


def _wait_for_runs(out: Path, n: int, driver: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 120
    while not (out.exists() and len(_pairs(out)) == n):
        assert driver is None or driver.poll() is None, driver.communicate()
        assert time.monotonic() < deadline, f"{n} runs not in {out} within 120 s"
        time.sleep(0.2)


def test_without_ray_several_devices_give_the_install_line(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, as where it is absent
    assert bench_main([*ARGS, "--devices", "cpu,cpu"]) == 2
    assert INSTALL in capsys.readouterr().err
    one = sweep(["none"], progress=False, **TINY)  # one device needs no Ray
    assert [(r["name"], r["seed"]) for r in one.runs] == [("none", 0)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def test_an_address_where_nothing_listens_is_refused_in_seconds(monkeypatch, capsys) -> None:
    """It used to hang in ray.init (stopped after 623 s)."""
    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # not this module's local Ray
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    t0 = time.monotonic()
    assert bench_main([*ARGS, "--devices", "cpu", "--address", address]) == 2
    assert time.monotonic() - t0 < 30
    # Only the sweep's own lines: the module's local Ray (the fixture of the tests before) may
    # still forward its workers' log lines to stderr, prefixed "(_task pid=...)".
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", x) for x in capsys.readouterr().err.splitlines()]
    err = [x for x in lines if not x.startswith("(")]
    assert len(err) == 1 and "No Ray cluster answers" in err[0] and address in err[0]


@contextlib.contextmanager
def _head(token: bool) -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray head of this test's own (``ray start --head --block``: its own port, temporary
    folder and home, so no other Ray on this machine is touched; stopped by its process group),
    with token authentication on (a token made in its home first, as the README's recipe does)
    or off; its address and the environment a driver on its node has."""
    ray_bin = str(Path(sys.executable).with_name("ray"))
    home = Path(tempfile.mkdtemp(prefix="attncv-home-"))
    temp = Path(tempfile.mkdtemp(prefix="ray-"))  # short: Ray's socket paths have a limit
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env |= {"HOME": str(home), "PYTHONPATH": SRC, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    if token:
        subprocess.run(
            [ray_bin, "get-auth-token", "--generate"], env=env, check=True, capture_output=True
        )
    else:
        env["RAY_AUTH_MODE"] = "disabled"
    command = [ray_bin, "start", "--head", f"--port={_free_port()}", f"--temp-dir={temp}"]
    command += ["--num-cpus=2", "--num-gpus=0", "--include-dashboard=false"]
    command += ["--disable-usage-stats", "--block"]
    log = open(temp / "head.log", "wb")  # noqa: SIM115 (closed below)
    head = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        found = temp / "ray_current_cluster"
        deadline = time.monotonic() + 120
        while not (found.exists() and found.read_text().strip()):
            assert head.poll() is None, (temp / "head.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Ray head did not start in 120 s"
            time.sleep(0.5)
        env.pop("RAY_AUTH_MODE", None)  # the driver's own choice
        yield found.read_text().strip(), env
    finally:
        head.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # anything of this head left: its group only
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def _driver(address: str, env: dict[str, str], out: Path) -> subprocess.Popen:
    """The README's sweep, joining the head by its address: two runs, a CPU each."""
    command = [sys.executable, "-m", "attncv.bench", "sweep", "--profile", "smoke"]
    command += ["--names", "none", "--seeds", "0", "1", "--train-size", "100"]
    command += ["--test-size", "50", "--cost-steps", "1", "--devices", "cpu"]
    command += ["--address", address, "--out", str(out)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _ended(driver: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = driver.communicate(timeout=300)
    finally:
        driver.kill()
    return driver.returncode, err


# Over 30 s with a token (about 35 s): `ray start --head` and a driver joining it by address are
# two Ray starts, which is what the recipe does; the smallest sweep (one module, two seeds).
@pytest.mark.slow
@pytest.mark.parametrize("token", [True, False], ids=["token", "no-token"])
def test_the_recipe_joins_a_head_by_its_address(token, tmp_path) -> None:
    """Over 30 s: a Ray head of its own, a driver whose two workers import torch, and (with a
    token) a failed join beside it (Ray retries for 20 s). A head started where a token exists
    has token authentication, and Ray sends the token to an address only with
    RAY_AUTH_MODE=token, which the recipe exports: without it the join used to fail as 'No Ray
    cluster answers'; now the message says what to set. A head without a token takes a driver
    as it is."""
    with _head(token) as (address, env):
        refused = _driver(address, env, tmp_path / "refused.json") if token else None
        driver = _driver(
            address, env | ({"RAY_AUTH_MODE": "token"} if token else {}), tmp_path / "joined.json"
        )
        code, err = _ended(driver)
        assert code == 0, err[-3000:]
        if refused is not None:
            code, err = _ended(refused)
            assert code == 2, err[-2000:]
            assert "RAY_AUTH_MODE=token" in err.splitlines()[-1] and "InvalidAuthToken" in err
    assert _pairs(tmp_path / "joined.json") == [("none", 0), ("none", 1)]


@pytest.mark.slow
def test_resume_onto_other_data_is_refused_by_the_tasks(ray_address, tmp_path, capsys) -> None:
    """Each task compares the data it loaded with the kept runs' before training: the sweep
    stops with one line. It used to train a run, then lose it when the checkpoint raised (one
    table, one dataset) out of the driver's loop, killing the tasks in flight."""
    out = tmp_path / "other-data.json"
    argv = ["sweep", "--profile", "smoke", "--names", "none", "--train-size", "100"]
    argv += ["--test-size", "50", "--cost-steps", "1", "--devices", "cpu,cpu"]
    assert bench_main([*argv, "--seeds", "0", "--out", str(out)]) == 0
    raw = json.loads(out.read_text())
    raw["runs"][0]["dataset"] = raw["data"] = "CIFAR-100 (elsewhere)"
    out.write_text(json.dumps(raw))
    capsys.readouterr()
    assert bench_main([*argv, "--seeds", "0", "1", "2", "--out", str(out), "--resume"]) == 2
    printed = capsys.readouterr()
    assert "best-5" not in printed.out  # no run trained
    # the driver's own lines: Ray forwards its workers' stderr (prefixed "(_task pid=...)", and
    # the warnings they print, such as a data substitute's, indented under it) when it likes
    own = [
        line
        for line in printed.err.strip().splitlines()
        if "pid=" not in line and not line.startswith((" ", "\t"))
    ]
    assert "other data" in printed.err and len(own) == 1, printed.err
    assert json.loads(out.read_text()) == raw
