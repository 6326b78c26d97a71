"""What is done: the state a call keeps in ``state.json`` (each step's status, seconds and key;
every call's start), found again on a warm machine or taken from an earlier call's zip on a cold
one, and what the finished steps say about the estimates of the rest."""

from __future__ import annotations

import json
import shutil
import statistics
import zipfile
from pathlib import Path
from typing import Any

from .call import Call
from .clock import now
from .files import library_hash, write_atomic
from .plan import Step


class StateMixin(Call):
    """Reads and writes ``self.state``: ``{"fingerprint", "steps": {step id: entry}, "calls"}``."""

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

    def note_skip(self, step: Step, why: str) -> None:
        entry = self.state["steps"].setdefault(step.id, {})
        if entry.get("status") in (None, "skipped"):
            entry.update(status="skipped", note=why, key=step.key, estimate=step.estimate)
        else:
            entry["note"] = why
        self.save_state()

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
