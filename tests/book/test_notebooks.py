"""The chapter notebooks keep the course's shape: the same Colab cell, in the table of contents,
clean committed outputs, exercises with hidden solutions and a grader, and no answer left in the
student copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from attncv.book.colab import FIRST_CELL, FIRST_CELL_TAGS, REPOSITORY
from attncv.book.student import SOLUTION_TAG, strip_solutions
from attncv.book.toc import toc_files as book_toc_files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    p.relative_to(ROOT)
    for p in (ROOT / "chapters").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
WIDGET_TEXT = re.compile(r"\b(HBox|VBox|IntProgress|FloatProgress)\(")
DIRECTIVE = re.compile(r"^[ \t]*(:{3,}|`{3,})\{(exercise|solution)\}[ \t]*(\S*)", re.M)


def toc_files() -> list[str]:
    return book_toc_files(ROOT / "_toc.yml")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / path, as_version=4)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under chapters/"


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_files())
    missing = [str(p) for p in NOTEBOOKS if str(p.with_suffix("")) not in listed]
    assert not missing, f"add these to _toc.yml: {missing}"
    absent = [
        f for f in listed if not any((ROOT / f).with_suffix(s).exists() for s in (".ipynb", ".md"))
    ]
    assert not absent, f"_toc.yml lists pages that don't exist: {absent}"


def test_colab_cell_installs_from_the_books_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert f"git+{REPOSITORY}" in FIRST_CELL
    assert not re.search(r"\b(torch|numpy)\s*[=<>~!]=", FIRST_CELL), "never pin torch or numpy"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_first_code_cell_is_the_colab_cell(path):
    first = next(c for c in read(path).cells if c.cell_type == "code")
    assert first.source == FIRST_CELL, (
        f"{path}: the first code cell must be attncv.colab.FIRST_CELL; "
        f"run: python -m attncv.colab {path}"
    )
    assert set(FIRST_CELL_TAGS) <= set(first.metadata.get("tags", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_committed_outputs_are_clean(path):
    nb = read(path)
    state = json.dumps(nb.metadata.get("widgets", {}))
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            where = f"{path}, cell {i}"
            assert out.output_type != "error", (
                f"{where}: an error is committed: {out.get('evalue')}"
            )
            data = out.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view:
                assert view["model_id"] in state, (
                    f"{where}: a widget without stored state shows as raw text in the book; "
                    "execute with ATTNCV_PROGRESS=log (make execute)"
                )
                continue
            text = out.get("text", "") + str(data.get("text/plain", ""))
            assert not WIDGET_TEXT.search(text), f"{where}: raw widget text: {text[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_exercises_have_hidden_solutions_and_a_grader(path):
    nb = read(path)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    exercises, solutions = [], []
    for m in DIRECTIVE.finditer(markdown):
        options = markdown[m.end() : m.end() + 200]
        option = re.match(r"[^\n]*\n(?:\s*:\S+:.*\n)*?\s*:label:\s*(\S+)", options)
        label = (option[1] if option else m[3]) if m[2] == "exercise" else m[3]
        if m[2] == "exercise":
            exercises.append(label)
        elif re.match(r"\s*(:\S+:.*\n\s*)*:class:\s*dropdown", options):
            solutions.append(label)
    assert len(exercises) >= 2, f"{path}: {len(exercises)} exercises, at least 2 expected"
    unsolved = [e for e in exercises if e not in solutions]
    assert not unsolved, f"{path}: exercises without a {{solution}} dropdown: {unsolved}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(re.search(r"\bcheck_\w+\(", c.source) for c in code), f"{path}: no check_*() grader"
    for c in code:
        if SOLUTION_TAG in c.metadata.get("tags", []):
            assert {"hide-input", "hide-cell", "remove-input"} & set(c.metadata.tags), (
                f"{path}: a solution cell must be hidden (tag it hide-input): {c.source[:60]!r}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_student_copy_holds_no_solution(path):
    nb = read(path)
    student = json.dumps([c.source for c in strip_solutions(nb).cells])
    solution_lines = {
        line.strip()
        for c in nb.cells
        if SOLUTION_TAG in c.metadata.get("tags", [])
        for line in c.source.splitlines()
        if len(line.strip()) > 24 and not line.strip().startswith(("#", "from ", "import "))
    }
    leaked = [line for line in solution_lines if json.dumps(line)[1:-1] in student]
    assert not leaked, f"{path}: the student copy still holds solution code: {leaked[:3]}"
    assert "{solution}" not in student


PAGES = sorted(p.relative_to(ROOT) for p in (ROOT / "chapters").rglob("*.md"))
LITERAL_EXERCISE = re.compile(r"\b[Ee]xercises? \d+")


def _prose(path: Path) -> str:
    """The Markdown of a page or notebook, without the exercise directives' own lines."""
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    else:
        text = (ROOT / path).read_text()
    prose = "\n".join(line for line in text.splitlines() if not DIRECTIVE.match(line))
    return re.sub(r"`[^`\n]*`", "", prose)  # inline code quotes program output, not prose


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=str)
def test_no_literal_exercise_numbers(path):
    """Exercises are numbered per page in the book: refer to one with {numref}`label` (or by its
    title), never "Exercise 2", which breaks as soon as the numbering does."""
    found = LITERAL_EXERCISE.findall(_prose(path))
    assert not found, f"{path}: literal exercise numbers {found}; use {{numref}}`ex-...`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_checked_cells_are_tagged_not_commented(path):
    """nbval's checked cells carry the cell tag nbval-check-output, which the book does not show;
    a # NBVAL_CHECK_OUTPUT comment would be printed on the page."""
    marked = [c.source[:40] for c in read(path).cells if "NBVAL" in c.source]
    assert not marked, f"{path}: NBVAL comments in {marked}; tag the cells nbval-check-output"
