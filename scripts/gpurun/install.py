"""The set-up: the environment every step runs in (PYTHONPATH, attncv's settings, the carried
data and commit, a Jupyter kernel of this Python), Jupyter installed from the carried wheels where
this Python lacks it (the GPU machine has no internet), and a probe of the device and versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from .call import Call
from .files import write_atomic

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


class InstallMixin(Call):
    """Fills ``self.env`` (the steps' environment) and ``self.info`` (what the probe found)."""

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


def set_up(run: InstallMixin) -> int | None:
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
