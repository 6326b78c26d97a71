"""Student copies: no solution left, a clear message in its place, and the notebook still runs."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from attncv.book.colab import FIRST_CELL
from attncv.book.student import main, strip_markdown, strip_solutions, stub, todo

SECRET = "SECRET_SOLUTION_7f3a"  # appears in every solution, and must appear in no student copy


def fixture_notebook() -> nbformat.NotebookNode:
    """A small chapter: two exercises (colon and backtick fences, a gated solution), a grader."""
    solution = new_code_cell(
        textwrap.dedent(f"""\
            import torch
            from torch import nn


            class MySE(nn.Module):
                # {SECRET}
                def __init__(self, channels, *, reduction=16):
                    super().__init__()
                    self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
                    self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

                def forward(self, x):
                    s = x.mean((2, 3), keepdim=True)
                    return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))"""),
        metadata={"tags": ["solution", "hide-input"]},
    )
    cells = [
        new_markdown_cell("# A chapter\nSome prose that stays."),
        new_code_cell(FIRST_CELL),
        new_code_cell("x = 2 + 2\nprint('before', x)"),
        new_markdown_cell(
            ":::{exercise}\n:label: ex-demo-1\nWrite `MySE`.\n:::\n\n"
            f":::{{solution}} ex-demo-1\n:class: dropdown\nUse a sigmoid. {SECRET}\n:::\n\nAfter."
        ),
        solution,
        new_code_cell(
            "from attncv.exercises import check_module\n\n"
            "report = check_module(MySE, 'se', channels=32)"
        ),
        new_markdown_cell(
            "```{exercise} ex-demo-2\nCompute the parameter count.\n```\n\n"
            f"```{{solution-start}} ex-demo-2\n:class: dropdown\n```\n{SECRET} starts here."
        ),
        new_code_cell(f"params = 2 * 64 * 64 // 16  # {SECRET}", metadata={"tags": ["solution"]}),
        new_markdown_cell(f"{SECRET} in the span.\n```{{solution-end}}\n```\nKept after the span."),
        new_code_cell("assert check_module(MySE, 'se', channels=16)"),
        new_code_cell("print('after')"),
    ]
    cells[2].outputs = [nbformat.v4.new_output("stream", text=f"{SECRET}\n")]
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def test_no_solution_is_left():
    original = fixture_notebook()
    student = strip_solutions(original)
    assert SECRET not in json.dumps(student)
    assert SECRET in json.dumps(original)  # the original is left alone
    markdown = [c.source for c in student.cells if c.cell_type == "markdown"]
    assert markdown == [
        "# A chapter\nSome prose that stays.",
        ":::{exercise}\n:label: ex-demo-1\nWrite `MySE`.\n:::\n\nAfter.",
        "```{exercise} ex-demo-2\nCompute the parameter count.\n```",
        "Kept after the span.",
    ]
    assert all(c.get("outputs", []) == [] for c in student.cells)


def test_gated_span_drops_the_code_cells_inside_it():
    student = strip_solutions(fixture_notebook())
    assert not any("params" in c.source for c in student.cells)
    stubs = [c for c in student.cells if "exercise-stub" in c.metadata.get("tags", [])]
    assert len(stubs) == 1 and "raises-exception" in stubs[0].metadata.tags
    assert "hide-input" not in stubs[0].metadata.tags and "solution" not in stubs[0].metadata.tags


def test_stub_names_the_exercise_and_the_placeholders():
    code = stub(2, "ex-se-2", ["MySE"])
    assert code.splitlines()[0].startswith("# Exercise 2 (ex-se-2): your turn. Write MySE")
    namespace: dict = {}
    with pytest.raises(NotImplementedError, match=r"Exercise 2 \(ex-se-2\): write MySE in this"):
        exec(code, namespace)
    with pytest.raises(NotImplementedError, match="MySE is not written yet"):
        namespace["MySE"](64)


def test_placeholder_fails_the_grader_kindly(capsys):
    from attncv.exercises import check_module

    report = check_module(todo("MySE", "Exercise 1"), "se", channels=32)
    assert not report.passed
    assert "MySE is not written yet" in capsys.readouterr().out


def test_unclosed_solution_is_dropped_to_the_end():
    text, still_open = strip_markdown("keep\n:::{solution} x\nsecret")
    assert (text, still_open) == ("keep", False)


@pytest.mark.slow
def test_student_copy_runs_and_the_stub_explains(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    src = Path(__file__).resolve().parents[2] / "src"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    student = strip_solutions(fixture_notebook())
    NotebookClient(
        student, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()  # raises on any error but the stub's
    outputs = {c.source.splitlines()[0]: c.outputs for c in student.cells if c.cell_type == "code"}
    stub_out = next(o for k, o in outputs.items() if k.startswith("# Exercise 1"))
    assert stub_out[0]["ename"] == "NotImplementedError"
    assert "Exercise 1 (ex-demo-1): write MySE in this cell" in stub_out[0]["evalue"]
    grader = "".join(
        o.get("text", "") for o in outputs["from attncv.exercises import check_module"]
    )
    assert "✗ builds" in grader and "MySE is not written yet" in grader
    assert outputs["print('after')"][0]["text"] == "after\n"
    softened = outputs["check_module(MySE, 'se', channels=16);"]  # was: assert check_module(...)
    assert "MySE is not written yet" in softened[0]["text"] and len(softened) == 1


def test_command_writes_copies_below_the_output_folder(tmp_path, capsys):
    src = tmp_path / "chapters" / "channel"
    src.mkdir(parents=True)
    nbformat.write(fixture_notebook(), src / "se.ipynb")
    assert main([str(tmp_path / "chapters"), "-o", str(tmp_path / "student")]) == 0
    copy = tmp_path / "student" / "channel" / "se.ipynb"
    assert SECRET not in copy.read_text() and "1 student notebooks" in capsys.readouterr().out
