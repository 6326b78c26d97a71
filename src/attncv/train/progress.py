"""Progress reporting for training: a tqdm bar for people, plain lines for logs and the book.

``auto`` uses ``tqdm.auto`` (a widget in Jupyter, a text bar in a terminal); ``log`` prints one
clean line per epoch, which is what committed notebook outputs show in the HTML book
(``$ATTNCV_PROGRESS=log``, set by ``make execute``); ``none`` is silent.
"""

from __future__ import annotations

import sys
from typing import Any


class Reporter:
    """One bar over all training steps, its description the epoch, its postfix loss and accuracy."""

    def __init__(self, mode: str, total_steps: int, epochs: int, title: str) -> None:
        self.mode, self.epochs, self.title = mode, epochs, title
        self.bar: Any = None
        if mode == "auto":
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total_steps, desc=f"{title} epoch 1/{epochs}", unit="step", dynamic_ncols=True
            )
        elif mode == "log":
            print(title, flush=True)

    def step(self, epoch: int, loss: float, acc: float) -> None:
        if self.bar is not None:
            self.bar.set_description(f"{self.title} epoch {epoch}/{self.epochs}", refresh=False)
            self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.1%}", refresh=False)
            self.bar.update(1)

    def epoch(self, row: dict[str, float]) -> None:
        text = (
            f"epoch {row['epoch']:>3}/{self.epochs}  loss {row['train_loss']:.3f}  "
            f"train {row['train_acc']:6.1%}  test {row['test_acc']:6.1%}  "
            f"lr {row['lr']:.3f}  {row['seconds']:5.1f} s"
        )
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{row['train_loss']:.3f}",
                acc=f"{row['train_acc']:.1%}",
                test=f"{row['test_acc']:.1%}",
            )
        elif self.mode == "log":
            print(text, file=sys.stdout, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
