"""One notebook, executed top to bottom in a fresh kernel with widget state stored. It runs in a
child process of its own (``python3 scripts/gpu_run.py _notebook SOURCE TARGET ...``), so that a
budget stop can end it and its kernel; it writes the executed notebook, stamped with the profile,
device and seconds, or, if a cell fails, the notebook as far as it ran."""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from .clock import now
from .files import write_atomic


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
