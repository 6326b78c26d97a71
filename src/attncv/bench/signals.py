"""SIGINT and SIGTERM as a sweep takes them: SIGTERM (a batch system's stop, ``kill``, SLURM's
time limit) interrupts it as Ctrl-C does, and neither cuts a finished run's checkpoint short.

- :func:`sigterm_interrupts`: while the sweep runs, SIGTERM raises ``KeyboardInterrupt``, so the
  command line says what was kept and exits with status 130, on one device as on Ray.
- :func:`held`: while a finished run is written, SIGINT and SIGTERM wait; one that arrived in the
  meantime is honoured right after the write, by the handler that was in place. So a message
  that says the finished runs were kept is true.

Handlers can only be set in the main thread; elsewhere both are no-ops.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

STOPS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[Callable[[], None]]:
    """SIGTERM raises ``KeyboardInterrupt`` inside the block. Yields a function that puts the
    handler back (``ray.init`` replaces it with its own)."""
    if not _main_thread():
        yield lambda: None
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield lambda: signal.signal(signal.SIGTERM, interrupt)
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has run (a checkpoint); the first that arrived is
    then handled as it would have been."""
    if not _main_thread():
        yield
        return
    caught: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in STOPS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)  # None: set in C
    if caught:
        handler = old[caught[0]]
        if callable(handler):
            handler(caught[0], None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(caught[0])
