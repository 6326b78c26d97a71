"""The order of a call: what is stale is forgotten, then step after step, each either skipped
(done earlier, failed earlier, waiting for another, or no time left for it) or run, recorded, and
published to $OUT; the exit status says whether all is done, a step failed, or there is more."""

from __future__ import annotations

import time

from .clock import elapsed
from .execute import ExecuteMixin
from .install import InstallMixin
from .plan import Step
from .publish import publish

RESERVE = 5.0  # seconds kept back for the summary and the zip after the last step


class Run(ExecuteMixin, InstallMixin):
    """One call: its set-up (``install``), its state (``state``), its steps (``execute``), run in
    the plan's order by ``run`` below."""

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
            publish(self, steps)
        return self.finish(steps, failed)

    def finish(self, steps: list[Step], failed: bool = False) -> int:
        self.state["calls"][-1]["seconds"] = round(elapsed(), 1)
        self.save_state()
        summary = publish(self, steps)
        if failed:
            return 1
        return 0 if summary["complete"] else 3
