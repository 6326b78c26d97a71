"""A pytest plugin for the notebooks' smoke run (``make notebooks``): after the run, every
notebook's wall time (the sum of its cells' setup, call and teardown), slowest first, so each CI
log shows where the notebooks' time goes. Load it with ``-p tests.notebook_times``; it works
under pytest-xdist too (the reports reach the controlling process)."""

from __future__ import annotations

from collections import defaultdict

import pytest

_TIMES: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):  # a run with the unit tests too (make test) lists notebooks only
        _TIMES[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _TIMES:
        return
    terminalreporter.section("time per notebook (s, cells' setup + call + teardown)")
    for path, seconds in sorted(_TIMES.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f}  {path}")
    terminalreporter.write_line(f"{sum(_TIMES.values()):7.1f}  all notebooks (summed over workers)")
