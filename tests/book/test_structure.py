"""The exercise parser that the student copies and the nbgrader assignments share: it finds
exercises by their directives, labels, tags and graders, never by prose."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from attncv.book.structure import (
    CODE,
    EXERCISE,
    GRADER,
    SOLUTION,
    SOLUTION_CODE,
    TEXT,
    defined_names,
    parse,
    split_markdown,
)

from .test_student import SECRET, fixture_notebook


def test_exercises_are_numbered_per_notebook_with_their_labels():
    chapter = parse(fixture_notebook())
    assert [(e.number, e.label) for e in chapter.exercises] == [(1, "ex-demo-1"), (2, "")]
    first, second = chapter.exercises
    assert [b.kind for b in first.blocks] == [EXERCISE, SOLUTION, SOLUTION_CODE]
    assert first.solution_text == f"Use a sigmoid. {SECRET}"
    assert not first.autograded  # its check is `report = check_module(...)`, not an assert
    # A backtick fence's argument is the exercise's title; its label comes from :label: only.
    assert second.title == "ex-demo-2" and second.name == "Exercise 2"
    assert [b.kind for b in second.blocks] == [EXERCISE, SOLUTION, SOLUTION_CODE, SOLUTION, GRADER]
    span_code = second.solution_code[0]
    assert span_code.in_span and "params" in span_code.source
    assert second.solution_text == f"{SECRET} starts here.\n\n{SECRET} in the span."


def test_titles_and_reworded_prose_change_nothing():
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                "Some new words about exercises.\n\n"
                "```{exercise} Write your own SE\n:label: ex-se-1\n:class: hard\n\nWrite it.\n```"
            ),
            new_code_cell("class MySE:\n    pass", metadata={"tags": ["solution", "hide-input"]}),
            new_code_cell("from x import check_se\n\nassert check_se(MySE)"),
            new_markdown_cell(
                "````{solution} ex-se-1\n:class: dropdown\n\nSee above.\n```python\nx = 1\n```\n"
                "````\n\n:::{exercise}\n:label: ex-se-2\nWhy?\n:::\n:::{solution} ex-se-2\n"
                ":class: dropdown\nBecause.\n:::\n## Summary"
            ),
        ]
    )
    chapter = parse(nb)
    se1, se2 = chapter.exercises
    assert (se1.label, se1.title, se1.autograded) == ("ex-se-1", "Write your own SE", True)
    assert se1.of_kind(EXERCISE)[0].body == "Write it."
    assert se1.solution_text == "See above.\n```python\nx = 1\n```"  # a nested fence stays inside
    assert (se2.number, se2.label, se2.solution_text, se2.autograded) == (
        2,
        "ex-se-2",
        "Because.",
        False,
    )
    assert [b.kind for b in chapter.cell_blocks(3)] == [SOLUTION, TEXT, EXERCISE, SOLUTION, TEXT]
    assert chapter.cell_blocks(3)[-1].source == "## Summary"


def test_a_solution_names_its_exercise():
    nb = new_notebook(
        cells=[
            new_markdown_cell(":::{exercise}\n:label: a\nA\n:::\n:::{exercise}\n:label: b\nB\n:::"),
            new_markdown_cell(":::{solution} a\nfor a\n:::\n:::{solution} b\nfor b\n:::"),
        ]
    )
    a, b = parse(nb).exercises
    assert (a.solution_text, b.solution_text) == ("for a", "for b")


def test_code_before_any_exercise_belongs_to_none():
    chapter = parse(
        new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("assert check_x(x)")])
    )
    assert [b.kind for b in chapter.blocks] == [CODE, GRADER]
    assert chapter.exercises == [] and chapter.blocks[1].exercise is None


def test_an_open_solution_span_runs_over_cells():
    parts, still_open = split_markdown("Q\n:::{solution-start} a\n:class: dropdown\n:::\nbegun")
    assert [k for k, _, _ in parts] == [TEXT, SOLUTION] and still_open
    assert parts[1][2]["body"] == "begun"
    parts, still_open = split_markdown("more\n:::{solution-end}\n:::\nafter", in_span=True)
    assert [(k, lines) for k, lines, _ in parts] == [
        (SOLUTION, ["more", ":::{solution-end}", ":::"]),
        (TEXT, ["after"]),
    ]
    assert parts[0][2]["body"] == "more" and not still_open


def test_defined_names():
    assert defined_names("import torch\nclass A:\n    pass\ndef f():\n    pass\nx = y = 2") == [
        "A",
        "f",
        "x",
        "y",
    ]
    assert defined_names("%matplotlib inline\nclass B:\n    pass\nz = 1") == ["B", "z"]
