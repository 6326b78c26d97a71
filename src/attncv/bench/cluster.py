"""A sweep's runs as Ray tasks: one run per task, on this machine's GPUs or on a Ray cluster.

Ray is the ``cluster`` extra (``pip install "attncv[cluster]"``) and is imported only here, only
when a sweep asks for more than one device or a cluster. Where Ray runs:

- ``Placement(devices=("cuda:0", "cuda:1"))``: a Ray started here with those GPUs, a GPU per task
  (Ray sets each task's ``CUDA_VISIBLE_DEVICES``); ``("cpu", "cpu")``: two CPU tasks at once, each
  with the driver's torch threads shared out between them (what the tests use). Ray stops again
  when the sweep ends. No dashboard: join a cluster for one.
- ``Placement(address="auto")`` (or ``"ray://host:port"``, Ray Client, which needs
  ``ray[client]``, or the head's ``"host:6379"``): joins the cluster that ``ray start --head``
  and ``ray start --address=...`` made; a GPU per task unless the devices say ``cpu``. An
  address where nothing accepts a connection is refused within seconds (Ray would wait
  minutes); a cluster that refuses the driver's authentication (Ray 2.60 turns token
  authentication on where a token exists, and sends the token to an address only with
  ``RAY_AUTH_MODE=token``) is named as such, with the variables to set.
- Ray already started in this process (a notebook, the tests): used as it is, left running.

Each task loads the data on its node (``setup``, :func:`attncv.data.load_cifar`: a node without
a cache downloads CIFAR-100, under the cache's lock), keeps it for the worker's next task and
trains one run. The driver's ``ATTNCV_*`` variables travel with every task and override the
node's own (``ATTNCV_DATA`` set where the sweep starts names the data on every node: a path they
all see). A task first checks that its node runs the driver's attncv code.

Faults: a task whose worker dies (killed, out of memory, a lost node) is run again, up to
``retries`` times (Ray's ``max_retries``); a task that raises is a failure, reported with its
traceback, and the others go on; every finished run goes to ``checkpoint`` at once (the sweep
rewrites its JSON), and a SIGINT or SIGTERM that arrives meanwhile waits for it
(:func:`.signals.held`), so a stop, which cancels the tasks in flight, loses only those. A task
whose ``setup`` raises :class:`Refused` (its data are not those of the runs the sweep resumes)
stops the sweep: the tasks in flight are cancelled and the driver raises its ``ValueError``.

A test hook, for the tests of these faults: ``$ATTNCV_TEST_FAULT`` is JSON, ``{"name": "se",
"seed": 1, "action": "exit" | "raise" | "sleep", "once": "<file>"}``: the task of that run exits
its worker (``os._exit``), raises, or sleeps a minute; with ``once``, only while that file does
not exist yet (the hook creates it), so a retry runs normally.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import torch

from .devices import Placement
from .signals import held, sigterm_interrupts

INSTALL = 'pip install "attncv[cluster]"'
FAULT_VARIABLE = "ATTNCV_TEST_FAULT"

Job = tuple[str, int]
Setup = Callable[[str, dict[str, Any]], Any]  # (device, settings) -> state, e.g. the data there
Run = Callable[[Job, Any, dict[str, Any]], dict[str, Any]]  # (job, state, settings) -> row
Checkpoint = Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]  # (rows, failures)
PROBE_SECONDS = 5.0  # how long a cluster's address may take to accept a connection
AUTH_FAILED = ("InvalidAuthToken", "Unauthenticated", "AuthenticationError")  # Ray's words


class Refused(ValueError):
    """Raised by a task's ``setup`` when no run of this sweep may train there (its data are not
    the data of the runs it resumes): the driver cancels every task and stops the sweep."""


def check_retries(retries: int) -> None:
    """``--retries`` is a whole number of at least 0 (Ray reads -1 as "retry forever")."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"--retries must be a whole number of at least 0, not {retries!r}.")


def require_ray() -> Any:
    """The ``ray`` module, or an ``ImportError`` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "Training on more than one device, or on a Ray cluster, runs on Ray, which is not "
            f"installed: {INSTALL} (or pip install 'ray>=2.60,<3'). One device trains without it."
        ) from exc
    return ray


def run_on_ray(
    jobs: list[Job],
    settings: dict[str, Any],
    setup: Setup,
    run: Run,
    place: Placement,
    *,
    retries: int = 3,
    checkpoint: Checkpoint | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Train ``jobs`` as Ray tasks where ``place`` says; the rows and the failures, in finishing
    order. ``setup`` and ``run`` must be module-level functions (the tasks import them)."""
    ray = require_ray()
    ours = not ray.is_initialized()  # a Ray this call starts or joins, it also stops or leaves
    with sigterm_interrupts() as again:
        try:
            if ours:
                _connect(ray, place)
                again()  # ray.init puts its own SIGTERM handler in place of ours
            return _drive(ray, jobs, settings, setup, run, place, retries, checkpoint)
        finally:
            if ours:
                ray.shutdown()  # also after a stop during the start: no Ray process left over


def _connect(ray: Any, place: Placement) -> None:
    """Start Ray here, or join the cluster at ``place.address``."""
    quiet = {"logging_level": logging.WARNING}
    if place.address is not None:
        _answers(place.address)
        with _stderr_kept() as said:
            try:
                ray.init(address=place.address, **quiet)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError or its own
                raise ValueError(_not_joined(place.address, f"{exc} {said()}")) from None
        if place.kind == "cuda" and not ray.cluster_resources().get("GPU"):
            raise ValueError(
                f"The Ray cluster at {place.address!r} has no GPUs; --devices cpu trains on its "
                "CPUs."
            )
        return
    cuda = place.kind == "cuda"
    for attempt in (1, 2):
        try:
            with _visible_gpus(place.devices if cuda else ()):
                ray.init(
                    num_cpus=None if cuda else len(place.devices),
                    num_gpus=len(place.devices) if cuda else 0,
                    include_dashboard=False,
                    **quiet,
                )
            return
        except Exception as exc:  # Ray raises a bare Exception for this
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise
            ray.shutdown()  # Ray gives its new node 30 s, which a busy machine can miss
            print("Ray's start timed out (a busy machine?); starting it once more.", flush=True)


def _answers(address: str) -> None:
    """A ``ValueError`` in seconds where nothing accepts a connection at ``address``
    (``host:port`` or ``ray://host:port``; ``auto`` is Ray's to find): Ray itself waits minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise ValueError(
            f"No Ray cluster answers at {address!r} ({reason} within {PROBE_SECONDS:g} s). Start "
            "one first: `ray start --head --port=6379` on one node, `ray start "
            "--address=<head-ip>:6379` on the others (see the README's benchmark section)."
        ) from None


def _not_joined(address: str, said: str) -> str:
    """Why ``ray.init(address=...)`` failed, on one line, with what to do."""
    if any(word in said for word in AUTH_FAILED):
        return (
            f"The Ray cluster at {address!r} refused this driver's authentication "
            "(InvalidAuthToken): it was started with token authentication (where a token "
            "exists, ~/.ray/auth_token, `ray start --head` turns it on), and Ray sends the token "
            "to an address only with RAY_AUTH_MODE=token. Export RAY_AUTH_MODE=token with the "
            "cluster's token (the same ~/.ray/auth_token, or RAY_AUTH_TOKEN_PATH or "
            "RAY_AUTH_TOKEN), or run the sweep on a node of the cluster with --address auto."
        )
    first = said.strip().splitlines()[0] if said.strip() else "no reason given"
    return (
        f"Could not join the Ray cluster at {address!r} ({first}). Is it a Ray head's GCS "
        "port (`ray start --head --port=6379`), running the same Ray version as here?"
    )


@contextlib.contextmanager
def _stderr_kept() -> Iterator[Callable[[], str]]:
    """Capture what is written to file descriptor 2 in the block (Ray's C++ core logs there,
    which is the only place it names an authentication failure); yields a function that returns
    it. Written on to stderr after the block unless it names an authentication failure (then
    the sweep's own message replaces twenty lines of retries)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        sink = tempfile.TemporaryFile()
        os.dup2(sink.fileno(), 2)
    except (OSError, ValueError):  # no file descriptor 2 here: nothing to capture
        yield lambda: ""
        return
    text = ""

    def said() -> str:
        nonlocal text
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        sink.seek(0)
        text = sink.read().decode(errors="replace")
        return text

    try:
        yield said
    finally:
        said()
        os.dup2(saved, 2)
        os.close(saved)
        sink.close()
        if text and not any(word in text for word in AUTH_FAILED):
            sys.stderr.write(text)


@contextlib.contextmanager
def _visible_gpus(devices: tuple[str, ...]) -> Iterator[None]:
    """Start Ray with only the GPUs asked for: ``cuda:1,cuda:3`` are the second and fourth of
    those visible here (Ray hands out the ones in ``CUDA_VISIBLE_DEVICES`` when it starts)."""
    if not devices:
        yield
        return
    old = os.environ.get("CUDA_VISIBLE_DEVICES")
    visible = old.split(",") if old else [str(i) for i in range(torch.cuda.device_count())]
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(
        visible[torch.device(d).index or 0] for d in devices
    )
    try:
        yield
    finally:
        if old is None:
            del os.environ["CUDA_VISIBLE_DEVICES"]
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = old


def _drive(
    ray: Any,
    jobs: list[Job],
    settings: dict[str, Any],
    setup: Setup,
    run: Run,
    place: Placement,
    retries: int,
    checkpoint: Checkpoint | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep as many tasks in flight as there are devices (so runs start in the jobs' order),
    and report each one as it finishes."""
    cuda = place.kind == "cuda"
    at_once = place.tasks or max(1, int(ray.cluster_resources().get("GPU" if cuda else "CPU", 1)))
    settings = settings | {
        "kind": place.kind,
        "threads": max(1, torch.get_num_threads() // at_once),
        "code": code_hash(),
        "env": {k: v for k, v in os.environ.items() if k.startswith("ATTNCV_")},
    }
    task = ray.remote(_task).options(
        num_cpus=1, num_gpus=1 if cuda else 0, max_retries=retries, retry_exceptions=False
    )
    todo, running = list(jobs), {}
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        while todo or running:
            while todo and len(running) < at_once:
                job = todo.pop(0)
                running[task.remote(job, settings, setup, run)] = job
            done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            with held():  # a finished run is written before an interrupt is honoured
                _finish(ray, done, running, jobs, rows, failures, t0, checkpoint)
    except KeyboardInterrupt:
        for ref in running:
            ray.cancel(ref, force=True)
        print(
            f"Interrupted: {len(rows)} of {len(jobs)} runs finished and were kept; "
            f"{len(running)} in flight cancelled.",
            flush=True,
        )
        raise
    return rows, failures


def _finish(
    ray: Any,
    done: list[Any],
    running: dict[Any, Job],
    jobs: list[Job],
    rows: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    t0: float,
    checkpoint: Checkpoint | None,
) -> None:
    """Record the tasks in ``done``: a row or a failure each, printed and checkpointed; a task
    that refused (:class:`Refused`) stops the sweep, its tasks in flight cancelled."""
    for ref in done:
        job = running.pop(ref)
        outcome = _outcome(ray, ref, job)
        if "refused" in outcome:
            for other in running:
                ray.cancel(other, force=True)
            running.clear()
            raise ValueError(outcome["refused"])
        finished = len(rows) + len(failures) + 1
        clock = f"[{finished}/{len(jobs)} {time.perf_counter() - t0:6.0f} s]"
        if "row" in outcome:
            row = outcome["row"]
            rows.append(row)
            print(
                f"{clock} {row['name']} seed {row['seed']} on {row['device']}: best-5"
                f" {row['best5_acc']:.1%}, final {row['final_acc']:.1%}",
                flush=True,
            )
        else:
            failures.append(outcome["failed"])
            print(
                f"{clock} FAILED {job[0]} seed {job[1]} on "
                f"{outcome['failed']['node']}: {outcome['failed']['error']}",
                flush=True,
            )
        if checkpoint:
            checkpoint(rows, failures)


def _outcome(ray: Any, ref: Any, job: Job) -> dict[str, Any]:
    """A task's result; a task that could not finish (its worker died more often than the retries
    allow, or it was cancelled) as a failure."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        text = str(exc)
        return {
            "failed": {
                "name": job[0],
                "seed": job[1],
                "node": "?",
                "error": f"{type(exc).__name__}: {text.strip().splitlines()[0] if text else ''}",
                "traceback": text,
            }
        }


@cache
def code_hash() -> str:
    """A hash of this attncv's source: a task checks that its node runs the driver's code."""
    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


_NODE_ENV: dict[str, str] | None = None  # this worker's own ATTNCV_* variables, before any task
_DATA: dict[tuple[Any, ...], Any] = {}  # this worker's data, kept for its next task


def _task(job: Job, settings: dict[str, Any], setup: Setup, run: Run) -> dict[str, Any]:
    """One run in a Ray worker: the driver's environment, the data (loaded once per worker),
    the run; ``{"row": ...}`` or ``{"failed": ...}``."""
    _use_environment(settings["env"])
    node = platform.node()
    try:
        _fault_hook(job)
        if code_hash() != settings["code"]:
            raise RuntimeError(
                f"{node} runs other attncv code than the sweep's driver ({code_hash()} against "
                f"{settings['code']}): install the same commit on every node."
            )
        device = "cpu"
        if settings["kind"] == "cuda":
            device = "cuda:0"  # the task's own GPU: Ray makes it the only one visible
            torch.cuda.set_device(0)
        else:
            torch.set_num_threads(settings["threads"])
        key = (device, json.dumps(settings["env"], sort_keys=True), repr(settings.get("scale")))
        key += (settings.get("data_dir"), settings.get("dataset"))  # setup checks the data
        if key not in _DATA:
            _DATA.clear()  # one dataset per worker: a GPU holds one copy
            _DATA[key] = setup(device, settings)
        return {"row": run(job, _DATA[key], settings), "node": node}
    except Refused as exc:
        return {"refused": f"{node}: {exc}"}
    except Exception as exc:
        return {
            "failed": {
                "name": job[0],
                "seed": job[1],
                "node": node,
                "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                "traceback": traceback.format_exc(),
            }
        }


def _use_environment(env: dict[str, str]) -> None:
    """The node's own ``ATTNCV_*`` variables, overridden by the driver's (and nothing left over
    from an earlier task's driver)."""
    global _NODE_ENV
    if _NODE_ENV is None:
        _NODE_ENV = {k: v for k, v in os.environ.items() if k.startswith("ATTNCV_")}
    for k in [k for k in os.environ if k.startswith("ATTNCV_")]:
        del os.environ[k]
    os.environ.update(_NODE_ENV | env)


def _fault_hook(job: Job) -> None:
    """``$ATTNCV_TEST_FAULT`` (the module docstring): make this run's task fail, for the tests."""
    raw = os.environ.get(FAULT_VARIABLE)
    if not raw:
        return
    fault = json.loads(raw)
    if (fault["name"], fault["seed"]) != job:
        return
    if fault.get("once"):
        marker = Path(fault["once"])
        if marker.exists():
            return
        marker.touch()
    if fault["action"] == "exit":
        os._exit(1)  # the worker dies, as on a lost node or the OOM killer
    if fault["action"] == "sleep":
        time.sleep(60)
        return
    raise RuntimeError(f"{FAULT_VARIABLE}: the run {job[0]} seed {job[1]} fails, as asked.")
