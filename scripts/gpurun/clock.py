"""The call's clock: seconds since this call started (its budget counts from there), and the time
of day that the state, the summary and the executed notebooks record."""

from __future__ import annotations

import time

STARTED = time.monotonic()


def elapsed() -> float:
    return time.monotonic() - STARTED


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
