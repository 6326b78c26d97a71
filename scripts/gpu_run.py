"""The GPU day in one command: `python3 scripts/gpu_run.py [args]` (what `make gpu` runs).

`--help` (or `scripts/gpurun/__init__.py`) explains the steps. The code is the package beside this
file, `scripts/gpurun/`, standard library only (the GPU machine's python3 has no venv and no
attncv installed). In the order a call uses its files:

- `cli.py`: the options and `main`, the call from start to exit status;
- `plan.py`: the steps in order, with their estimates and keys;
- `call.py`: one call's arguments, folders, environment and log;
- `install.py`: the steps' environment, Jupyter from the carried wheels, the device probe;
- `state.py`: what is done (`state.json`), also from an earlier call's zip;
- `run.py`: the loop over the steps: skip, wait, stop for time, or run;
- `execute.py`: one step as a child process (a notebook, a sweep seed, timm);
- `notebook.py`: the `_notebook` child that executes one notebook;
- `summary.py`, `publish.py`: the summary, and what goes to $OUT after every step;
- `clock.py`, `files.py`, `proc.py`: the call's clock, whole-file writes and digests, process trees.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # already there when run as a script; not when loaded from its path
    sys.path.insert(0, HERE)

from gpurun.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
