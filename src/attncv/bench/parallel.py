"""Several runs at once, one per device: a worker process per GPU (or ``cpu,cpu`` to test it)
takes (module, seed) jobs from a queue until none are left."""

from __future__ import annotations

import queue as queue_module
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..env import default_device

Job = tuple[str, int]
Setup = Callable[[str, dict[str, Any]], Any]  # (device, settings) -> state, e.g. the data there
Run = Callable[[Job, Any, dict[str, Any]], dict[str, Any]]  # (job, state, settings) -> row


def parse_devices(devices: Sequence[str] | str | None) -> list[str]:
    """``None`` -> the first GPU or the CPU; ``"all"`` -> every GPU; ``"a,b"`` -> ``[a, b]``."""
    if devices is None:
        return ["cuda:0" if default_device() == "cuda" else "cpu"]
    if devices == "all":
        n = torch.cuda.device_count()
        return [f"cuda:{i}" for i in range(n)] if n else ["cpu"]
    devs = [d.strip() for d in (devices.split(",") if isinstance(devices, str) else devices)]
    for d in devs:
        torch.device(d)  # a clear error for a misspelt device
        if d.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"Device {d!r} asked for, but torch sees no GPU here.")
    return devs


def _worker(
    device: str,
    threads: int,
    jobs: Any,
    results: Any,
    settings: dict[str, Any],
    setup: Setup,
    run: Run,
) -> None:
    """One process per device: ``setup`` there (load the data), then ``run`` jobs until None."""
    try:
        torch.set_num_threads(threads)
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        state = setup(device, settings)
        while (job := jobs.get()) is not None:
            results.put(("ok", run(job, state, settings)))
    except BaseException:  # report, don't hang the parent
        results.put(("error", f"{device}: {traceback.format_exc()}"))


def run_parallel(
    devices: list[str], jobs: list[Job], settings: dict[str, Any], setup: Setup, run: Run
) -> list[dict[str, Any]]:
    """Run ``jobs`` on ``devices`` at once, one worker process each; the rows in finishing order.

    ``setup`` and ``run`` must be module-level functions (the workers are spawned processes).
    """
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue, results = ctx.Queue(), ctx.Queue()
    for job in jobs:
        queue.put(job)
    for _ in devices:
        queue.put(None)
    threads = max(1, torch.get_num_threads() // max(1, sum(d == "cpu" for d in devices)))
    procs = [
        ctx.Process(
            target=_worker,
            args=(d, threads, queue, results, settings, setup, run),
            daemon=True,
        )
        for d in devices
    ]
    for p in procs:
        p.start()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        while len(rows) < len(jobs):
            try:
                status, payload = results.get(timeout=5)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("Every sweep worker died without reporting.") from None
                continue
            if status == "error":
                raise RuntimeError(f"A sweep worker failed:\n{payload}")
            rows.append(payload)
            print(
                f"[{len(rows)}/{len(jobs)} {time.perf_counter() - t0:6.0f} s] {payload['name']}"
                f" seed {payload['seed']} on {payload['device']}: best-5 "
                f"{payload['best5_acc']:.1%}, final {payload['final_acc']:.1%}",
                flush=True,
            )
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    return rows
