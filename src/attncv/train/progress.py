"""Progress reporting for training: a tqdm bar for people, one growing log for the book.

``auto`` uses ``tqdm.auto`` (a widget in Jupyter, a text bar in a terminal); ``log`` writes the
run's title, one line per epoch and the summary as **one** block: in a notebook a single output
that is updated in place (an IPython display handle), so the executed notebook, and the book built
from it, shows one box per run: the run's summary in the open and its epoch table folded behind
a "show the epoch log" toggle (:class:`LogBlock`); in a terminal, plain lines. ``make execute``
sets ``$ATTNCV_PROGRESS=log``. ``none`` is silent. Lines stay within :data:`WIDTH` columns.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from typing import Any

from ..env import in_kernel
from .result import RUN_MIME

WIDTH = 90  # columns: the book's code boxes show about this many without scrolling


def wrap(text: str, indent: str = "  ") -> str:
    """``text`` wrapped at :data:`WIDTH` columns, continuation lines indented."""
    return "\n".join(
        textwrap.fill(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False)
        for line in text.splitlines()
    )


@dataclass(frozen=True)
class LogBlock:
    """One run's log as a notebook shows it: the summary (or, while training, the epoch reached)
    in the open, the title and epoch lines folded in a ``<details>`` box; plain text elsewhere."""

    log: tuple[str, ...]
    summary: str = ""
    status: str = ""
    record: dict[str, Any] | None = None  # the finished run's record (FitResult.record)

    def __str__(self) -> str:
        return "\n".join(self.log + ((self.summary,) if self.summary else ()))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """Text, HTML and, once the run has finished, its JSON record."""
        bundle: dict[str, Any] = {"text/plain": str(self), "text/html": self._repr_html_()}
        if self.record is not None:
            bundle[RUN_MIME] = self.record
        return bundle

    def _repr_html_(self) -> str:
        head = self.summary or self.status
        shown = f'<pre class="attncv-run">{html.escape(head)}</pre>' if head else ""
        lines = len(self.log) - 1
        return (
            f'<div class="attncv-run-box">{shown}<details class="attncv-log"><summary>'
            f"the epoch log ({lines} line{'' if lines == 1 else 's'})</summary>"
            f"<pre>{html.escape(chr(10).join(self.log))}</pre></details></div>"
        )


class Reporter:
    """One bar over all training steps (``auto``), or one log block per run (``log``)."""

    def __init__(self, mode: str, total_steps: int, epochs: int, title: str) -> None:
        self.mode, self.epochs, self.title = mode, epochs, title
        self.bar: Any = None
        self.lines: list[str] = []
        self.summary = ""
        self.record: dict[str, Any] | None = None
        self.status = "training: starting"
        self._handle: Any = None
        if mode == "auto":
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total_steps, desc=f"{title} epoch 1/{epochs}", unit="step", dynamic_ncols=True
            )
        elif mode == "log":
            self.write(wrap(title))

    def write(self, text: str) -> None:
        """Add lines to the log block (``log`` mode)."""
        if self.mode != "log":
            return
        self.lines.append(text)
        if not in_kernel():
            print(text, flush=True)
            return
        self._show()

    def _show(self) -> None:
        from IPython.display import display

        block = LogBlock(tuple(self.lines), self.summary, self.status, self.record)
        if self._handle is None:
            self._handle = display(block, display_id=True)
        else:
            self._handle.update(block)

    def step(self, epoch: int, loss: float, acc: float) -> None:
        if self.bar is not None:
            self.bar.set_description(f"{self.title} epoch {epoch}/{self.epochs}", refresh=False)
            self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.1%}", refresh=False)
            self.bar.update(1)

    def epoch(self, row: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{row['train_loss']:.3f}",
                acc=f"{row['train_acc']:.1%}",
                test=f"{row['test_acc']:.1%}",
            )
        self.status = f"training: epoch {row['epoch']}/{self.epochs}, test {row['test_acc']:.1%}"
        self.write(
            f"epoch {row['epoch']:>3}/{self.epochs}  loss {row['train_loss']:.3f}  "
            f"train {row['train_acc']:6.1%}  test {row['test_acc']:6.1%}  "
            f"lr {row['lr']:.3f}  {row['seconds']:5.1f} s"
        )

    def close(self) -> None:
        """Close the bar (also when training failed)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def finish(self, summary: str, record: dict[str, Any] | None = None) -> None:
        """End the run: the summary closes the log block (with the run's ``record`` as JSON
        beside it), or follows the bar as text."""
        if self.mode == "auto":
            self.close()
            print(summary, flush=True)
        if self.mode != "log":
            return
        if not in_kernel():
            print(summary, flush=True)
            return
        self.summary, self.record = summary, record
        self._show()
