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
