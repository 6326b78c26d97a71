"""What runs while the reader's code runs: the own-code rule checked on the code that executes.

:mod:`.honesty` reads the answer's code: the names it loads, its closures, its parts. An answer
can hide what it runs from that reading: import the library inside a method, look a module up in
``sys.modules`` at call time, copy a library function's ``__code__``, or reach a library method
through ``self.__class__.__mro__``. So a grader also watches the answer run. While the reader's
code builds, runs forward and backward (and only then: the grader's own work on the reference
is not watched), a profiler hook (:func:`sys.setprofile`, and :func:`threading.setprofile` for
threads it starts) sees every Python function called. A call into the library's files is allowed
only when it is, or is called from,

- a helper the exercise hands out (:data:`.honesty.HELPERS` and the grader's list);
- for an exercise that subclasses a library module (residual attention), that module's other
  methods and the library modules it is built from, but never the methods the reader writes.

Anything else is the library running in place of the reader's code: the grader refuses the
answer with :data:`.honesty.RULE`. The same hook keeps the grader's time limit (with
:data:`signal.SIGALRM` in the main thread, where a signal can interrupt a loop with no calls) and
notices an answer that switches the hook off.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from types import CodeType, FrameType, FunctionType
from typing import Any, TypeVar

import torch

T = TypeVar("T")
PACKAGE = os.path.realpath(Path(__file__).resolve().parents[1])  # the attncv package's folder
GRADERS = os.path.realpath(Path(__file__).resolve().parent)  # this folder: the graders
TIME_LIMIT = 120.0  # seconds of the reader's code per grading
LIBRARY, GRADER, READER, OTHER = "library", "grader", "reader", "other"
_TORCH = os.path.realpath(os.path.dirname(torch.__file__)) + os.sep
_STDLIB = tuple(
    {os.path.realpath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib")}
)
_PACKAGES = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


class TimeLimit(BaseException):
    """The reader's code ran past the grader's time limit (a BaseException: ``except Exception``
    in the reader's code does not swallow it)."""


class Refused(Exception):
    """The library ran in place of the reader's code; ``detail`` says what ran."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OutOfTime(Exception):
    """The reader's code did not finish within the time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:g} s")
        self.seconds = seconds


class Raised(Exception):
    """The reader's code raised ``exc`` (any exception but KeyboardInterrupt, SystemExit too)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(repr(exc))
        self.exc = exc


@functools.lru_cache(maxsize=4096)
def kind(filename: str) -> str:
    """Whose code a file holds: the library's, the graders', the reader's, or torch's and
    Python's own (OTHER)."""
    if filename.startswith("<frozen "):
        return OTHER
    path = os.path.realpath(filename) if not filename.startswith("<") else filename
    if path.startswith(GRADERS + os.sep):
        return GRADER
    if path.startswith(PACKAGE + os.sep):
        return LIBRARY
    if path.startswith(_TORCH):
        return OTHER
    if path.startswith(_STDLIB) and not any(p in path for p in _PACKAGES):
        return OTHER
    return READER


def key(code: CodeType) -> tuple[str, int, str]:
    """A code object's place: the same for a fresh copy of the library (:mod:`.fresh`)."""
    return os.path.realpath(code.co_filename), code.co_firstlineno, code.co_name


def describe(code: CodeType) -> str:
    """``attncv.attention.se.SE.forward`` for a code object of the library."""
    path = os.path.realpath(code.co_filename)
    module = "attncv"
    if path.startswith(PACKAGE + os.sep):
        parts = Path(path[len(PACKAGE) + 1 :]).with_suffix("").parts
        module = ".".join(["attncv", *(p for p in parts if p != "__init__")])
    return f"{module}.{getattr(code, 'co_qualname', code.co_name)}"


def codes(obj: object) -> Iterator[CodeType]:
    """The library's code objects in a function (or static/class method, or property), or in
    every function a class defines, its bases' included; torch's and the reader's are left out."""
    if isinstance(obj, functools.partial):
        obj = obj.func
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    found: list[CodeType] = []
    if isinstance(obj, property):
        found = [f.__code__ for f in (obj.fget, obj.fset) if isinstance(f, FunctionType)]
    elif isinstance(obj, FunctionType):
        found = [obj.__code__]
    elif isinstance(obj, type):
        for base in obj.__mro__:
            for attr in vars(base).values():
                if not isinstance(attr, type):
                    found += codes(attr)
    yield from (c for c in found if kind(c.co_filename) == LIBRARY)


class Watch:
    """One grading's watch over the reader's code.

    Args:
        roots: library objects (functions, classes) the reader's code may run, with whatever
            they call.
        forbidden: library objects that must never run for the reader (the answer itself).
        time_limit: seconds the reader's code may run in all, summed over every
            :meth:`run` (None: no limit).
        name: the answer's name in the messages (``MySE``).
    """

    def __init__(
        self,
        *,
        roots: Collection[object] = (),
        forbidden: Collection[object] = (),
        time_limit: float | None = TIME_LIMIT,
        name: str = "the answer",
    ) -> None:
        self.name = name
        self.roots = {key(c) for obj in roots for c in codes(obj)}
        self.forbidden = {key(c) for obj in forbidden for c in codes(obj)} - self.roots
        self.time_limit = time_limit
        self.left = time_limit
        self.violation: str | None = None
        self.timed_out = False
        self._deadline: float | None = None
        self._hook: Callable[[FrameType, str, Any], None] = self._profile

    def allow(self, objs: Collection[object]) -> None:
        """Add ``objs`` to the roots (a subclassing exercise's parts, once they are built)."""
        self.roots |= {key(c) for obj in objs for c in codes(obj)}
        self.forbidden -= self.roots

    def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``, the reader's code, under the watch and the clock.

        Raises :class:`Refused` if the library ran for it, :class:`OutOfTime` past the time
        limit, and :class:`Raised` with whatever else it raised, KeyboardInterrupt excepted.
        """
        error: BaseException | None = None
        result = None
        watching = _Watching(self)
        try:
            try:
                watching.on()
                result = fn(*args)
            finally:
                watching.off()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit and TimeLimit too: the reader's to answer for
            error = exc
        watching.off()  # again, in case the alarm rang before the first could run
        if self.violation is not None:
            raise Refused(self.violation)
        if self.timed_out or isinstance(error, TimeLimit):
            self.timed_out = True
            raise OutOfTime(self.time_limit or 0.0)
        if error is not None:
            raise Raised(error)
        return result  # type: ignore[return-value]

    def _profile(self, frame: FrameType, event: str, arg: object) -> None:
        if event not in ("call", "c_call"):
            return
        where = kind(frame.f_code.co_filename)
        if where == GRADER:  # the graders' own code, this watch included
            return
        if self._deadline is not None and time.monotonic() > self._deadline:
            self.timed_out = True  # where no alarm rings: outside the main thread
            raise TimeLimit
        if self.violation is not None:
            return
        if event == "call" and where == LIBRARY:
            self._check(frame)
        elif event == "c_call" and arg is sys.setprofile:
            self.violation = f"{self.name} calls sys.setprofile: it switches off the watch"

    def _check(self, frame: FrameType) -> None:
        """Refuse a library frame unless it is, or is called from, a root, with no frame of the
        reader's (or the grader's) in between."""
        code = frame.f_code
        if key(code) not in self.forbidden:
            f: FrameType | None = frame
            while f is not None:
                if key(f.f_code) in self.roots:
                    return
                if kind(f.f_code.co_filename) in (READER, GRADER):
                    break
                f = f.f_back
        self.violation = (
            f"{self.name} runs {describe(code)}, the library's code, while it is graded"
        )


class _Watching:
    """The profiler hook and the alarm, on for one :meth:`Watch.run`; :meth:`off` may be called
    more than once, and after an :meth:`on` that did not finish."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.alarm = (
            watch.left is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )
        self.ringing = self.armed = self.hooked = False
        self.start = time.monotonic()

    def on(self) -> None:
        watch = self.watch
        if watch.left is not None:
            if watch.left <= 0:
                watch.timed_out = True
                raise TimeLimit
            watch._deadline = self.start + watch.left
        self.profile, self.thread_profile = sys.getprofile(), _thread_profile()
        self.ringing = True
        if self.alarm:
            self.handler = signal.signal(signal.SIGALRM, self._ring)
            self.armed = True
            self.outer = signal.setitimer(signal.ITIMER_REAL, watch.left, 1.0)
        self.hooked = True
        threading.setprofile(watch._hook)
        sys.setprofile(watch._hook)

    def off(self) -> None:
        watch = self.watch
        watch._deadline = None  # first: neither the hook nor the alarm may stop this method
        self.ringing = False
        if self.hooked:
            self.hooked = False
            hook_left = sys.getprofile() is watch._hook
            sys.setprofile(self.profile)
            threading.setprofile(self.thread_profile)  # type: ignore[arg-type]
            if not hook_left and not watch.timed_out and watch.violation is None:
                watch.violation = f"{watch.name} switched off the grader's watch (sys.setprofile)"
        if self.armed:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            handler = self.handler if self.handler is not None else signal.SIG_DFL
            signal.signal(signal.SIGALRM, handler)
            if getattr(self, "outer", (0.0, 0.0))[0] > 0:  # someone else's timer: let it go on
                rest = max(self.outer[0] - (time.monotonic() - self.start), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, rest, self.outer[1])
        if watch.left is not None and self.start is not None:
            watch.left -= time.monotonic() - self.start
            self.start = None  # type: ignore[assignment]

    def _ring(self, signum: int, frame: FrameType | None) -> None:
        if self.ringing:
            self.watch.timed_out = True
            raise TimeLimit


def _thread_profile() -> object:
    getter = getattr(threading, "getprofile", None)  # Python 3.10+
    return getter() if getter is not None else None


def is_library_code(code: CodeType) -> bool:
    """A code object from the library's files (a copied ``__code__``), or one nesting one."""
    if kind(code.co_filename) in (LIBRARY, GRADER):
        return True
    return any(isinstance(c, CodeType) and is_library_code(c) for c in code.co_consts)
