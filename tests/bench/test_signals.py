"""SIGINT and SIGTERM during a sweep: a finished run's checkpoint is written before either is
honoured, and SIGTERM stops a one-device sweep as Ctrl-C does (a message, exit status 130)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import attncv
from attncv.bench.__main__ import main as bench_main
from attncv.bench.signals import held, sigterm_interrupts
from attncv.bench.sweep import Sweep
from attncv.data import DataSubstituteWarning

pytestmark = pytest.mark.filterwarnings("ignore", category=DataSubstituteWarning)
SRC = str(Path(attncv.__file__).resolve().parents[1])
ONE_RUN = ["sweep", "--profile", "smoke", "--names", "none", "--train-size", "100"]
ONE_RUN += ["--test-size", "50", "--cost-steps", "1"]


def test_a_signal_in_a_held_block_waits_for_its_end() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt):
        with held():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("written")  # still runs: the interrupt waits
    assert done == ["written"]
    with pytest.raises(KeyboardInterrupt):
        with sigterm_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)


def test_an_interrupt_during_a_checkpoint_keeps_the_run(tmp_path, monkeypatch, capsys) -> None:
    """Ctrl-C while the finished run was being written used to lose it (the window is ~40 ms a
    run) while the message said the finished runs were kept."""
    real = Sweep.save

    def interrupted(self, path):
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the checkpoint
        return real(self, path)

    monkeypatch.setattr(Sweep, "save", interrupted)
    out = tmp_path / "kept.json"
    assert bench_main([*ONE_RUN, "--out", str(out)]) == 130
    assert "finished runs are in" in capsys.readouterr().err
    assert [r["name"] for r in json.loads(out.read_text())["runs"]] == ["none"]


@pytest.mark.slow
def test_sigterm_stops_a_one_device_sweep_with_a_message_and_130(tmp_path) -> None:
    """A one-device sweep killed by SIGTERM (scancel, a time limit) used to die at once, exit
    status -15 and no message; now it says what was kept, exits 130, and keeps the run that was
    being written."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from attncv.bench.__main__ import main
        from attncv.bench.sweep import Sweep

        real = Sweep.save

        def stopped(self, path):
            os.kill(os.getpid(), signal.SIGTERM)
            return real(self, path)

        Sweep.save = stopped
        sys.exit(main(sys.argv[1:]))
        """
    )
    out = tmp_path / "stopped.json"
    env = os.environ | {"PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", script, *ONE_RUN, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 130, done.stderr[-2000:]
    assert "Sweep interrupted: the finished runs are in" in done.stderr
    assert [r["name"] for r in json.loads(out.read_text())["runs"]] == ["none"]
