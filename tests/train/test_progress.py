"""Training progress: in a notebook one output per run, updated in place; lines within 90
columns; in a terminal, plain lines."""

from __future__ import annotations

import json

import IPython.display

from attncv.data import synthetic
from attncv.model import resnet18
from attncv.train import fit, set_seed
from attncv.train import progress as progress_module
from attncv.train.progress import WIDTH, Reporter


class Handle:
    def __init__(self, log: list) -> None:
        self.log = log

    def update(self, obj) -> None:
        self.log.append(("update", obj))


def test_a_run_in_a_notebook_is_one_output_updated_in_place(monkeypatch) -> None:
    log: list = []

    def display(obj, display_id=False):
        assert display_id is True, "the log must be displayed with a handle, to update it"
        log.append(("display", obj))
        return Handle(log)

    monkeypatch.setattr(progress_module, "in_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    set_seed(0)
    data = synthetic(num_classes=4, train_per_class=8, test_per_class=2)
    result = fit(resnet18(4, width=4), data, epochs=3, batch_size=16, progress="log")
    kinds = [kind for kind, _ in log]
    assert kinds == ["display"] + ["update"] * 4  # title, then 3 epochs and the summary
    final = log[-1][1]
    assert str(final).count("epoch ") == 3 and result.summary() in str(final)
    assert max(len(line) for line in str(final).splitlines()) <= WIDTH
    page = final._repr_html_()  # the book: the summary once, in the open; the epochs folded
    assert page.count("test accuracy") == 1
    opened, folded = page.split("<details", 1)
    assert "test accuracy" in opened and "epoch " not in opened
    assert folded.count("epoch ") == 4  # "the epoch log" and three epoch lines


def test_outside_a_notebook_the_log_is_plain_lines(capsys) -> None:
    report = Reporter("log", 10, 2, "a title " * 20)
    report.epoch(
        {
            "epoch": 1,
            "train_loss": 1.0,
            "train_acc": 0.5,
            "test_acc": 0.4,
            "lr": 0.1,
            "seconds": 1.0,
        }
    )
    report.finish("done")
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("epoch   1/2") and out[-1] == "done"
    assert max(map(len, out)) <= WIDTH  # the long title is wrapped


def test_none_is_silent(capsys) -> None:
    report = Reporter("none", 10, 2, "title")
    report.finish("done")
    assert capsys.readouterr().out == ""


def test_a_finished_runs_block_carries_its_record_as_json() -> None:
    from attncv.train.progress import LogBlock
    from attncv.train.result import RUN_MIME, FitResult

    running = LogBlock(("se",), status="training: epoch 1/2")
    assert RUN_MIME not in running._repr_mimebundle_()  # no record before the run ends
    result = FitResult("se", "CIFAR-10", "cpu", {}, [{"test_acc": float("nan")}])
    done = LogBlock(("se",), result.summary(), record=result.record())
    bundle = json.loads(json.dumps(done._repr_mimebundle_(), allow_nan=False))
    assert bundle[RUN_MIME]["name"] == "se" and bundle[RUN_MIME]["test_accuracy"] is None
    assert "attncv-run-box" in bundle["text/html"] and "se: test accuracy" in bundle["text/plain"]
