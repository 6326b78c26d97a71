"""The chapters' exercises as nbgrader assignments, derived from the chapter notebooks.

    python -m attncv.book.assign                          # chapters/ -> assignments/
    python -m attncv.book.assign chapters -o course --only se eca

Writes an nbgrader course directory: ``source/<chapter>/<chapter>.ipynb`` for every chapter
with exercises, and ``nbgrader_config.py`` (only where there is none yet: it is yours to edit).
Each assignment is the chapter notebook itself, found by structure (:mod:`.structure`), with
the points of :mod:`.points`:

- a code cell tagged ``solution`` becomes an nbgrader solution cell: the book's code between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, after a comment saying what to write;
- a grader cell becomes an autograded test cell worth the exercise's points, its
  ``assert check_x(...)`` turned into ``graders().check_x(...).assert_passed()``: a failure
  raises ``GradeFailure`` with the grader's own message, which is what the student's feedback
  shows, below the grader's printed report. ``graders()`` (:mod:`attncv.exercises.fresh`) reads
  the graders afresh from their files, so an answer cell that changed ``attncv``'s modules
  (the grader, the reference) does not change its grade;
- a written exercise (no grader) gets a manually graded answer cell where the book has its
  ``{solution}``, holding that solution: ``nbgrader generate_assignment`` clears it for the
  students, and source/ keeps it for the instructor;
- every other cell is read-only; each ``{exercise}`` becomes an "Exercise N" heading with its
  points, numbered per notebook as in the book. Outputs are cleared.

Files that a chapter reads beside its notebook (:data:`FILES`: the benchmark's ``results/``)
are copied beside its assignment, so the students get them too.

Nothing is copied by hand: change a chapter and run this again. It refuses (and says why) when
an exercise has no points, or has solution code but no grader and is not marked as graded by
hand in :mod:`.points`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import nbformat

from .points import GRADED_BY_HAND, POINTS
from .structure import (
    EXERCISE,
    GRADER,
    GRADER_LINE,
    SOLUTION,
    SOLUTION_CODE,
    SOLUTION_TAG,
    TEXT,
    Chapter,
    Exercise,
    defined_names,
    parse,
)

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# Files a chapter reads relative to its notebook, copied beside the assignment (nbgrader hands
# out everything in source/<chapter>/): the benchmark's recorded sweeps, without which it would
# train a whole sweep in the students' brief profile.
FILES: dict[str, tuple[str, ...]] = {"benchmark": ("results",)}
# A test cell's first line: the graders read afresh from their files (an answer cell above may
# have changed the attncv modules it imported)
FRESH = "from attncv.exercises.fresh import graders  # a fresh copy: answer cells cannot change it"
CONFIG = "nbgrader_config.py"
CONFIG_TEXT = '''\
"""nbgrader's configuration for the attncv course directory.

Written by `python -m attncv.book.assign`, which only writes it where it is missing: edit it
freely (add your students, the exchange directory, the course id of your hub).
"""

import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "attncv"

# Autograding runs each submission top to bottom, the chapter's training cells included. The
# graders test the students' code, not the training, so the chapters train in the smoke
# profile (seconds on a CPU) unless ATTNCV_PROFILE is set; a cell may take up to 10 minutes.
os.environ.setdefault("ATTNCV_PROFILE", "smoke")
c.Execute.timeout = 600

# What the students find in place of the solutions.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


class AssignmentError(ValueError):
    """A chapter cannot become an assignment as it is (the message says what to change)."""


def problems(
    chapter: Chapter,
    points: Mapping[str, float] = POINTS,
    by_hand: Collection[str] = GRADED_BY_HAND,
) -> list[str]:
    """What keeps ``chapter`` from being graded: exercises without a label or points, and
    exercises with solution code but no grader that are not marked as graded by hand."""
    found = []
    for ex in chapter.exercises:
        if not ex.label:
            found.append(f"{ex.name} has no :label:, so it can have no points")
        elif ex.label not in points:
            found.append(f"{ex.name} has no points: add {ex.label!r} to attncv/book/points.py")
        if ex.autograded and ex.label in by_hand:
            found.append(f"{ex.name} has a grader, but points.py says it is graded by hand")
        if not ex.autograded and ex.solution_code and ex.label not in by_hand:
            found.append(
                f"{ex.name} has solution code but no grader: add a cell "
                "`assert check_...(...)` after it, or list it in GRADED_BY_HAND in points.py"
            )
        if not ex.autograded and not ex.solution_text:
            found.append(f"{ex.name} is graded by hand but has no {{solution}} to grade against")
    return found


def assignment(
    nb: nbformat.NotebookNode,
    points: Mapping[str, float] = POINTS,
    by_hand: Collection[str] = GRADED_BY_HAND,
) -> nbformat.NotebookNode:
    """The nbgrader source version of a chapter notebook (a new notebook; ``nb`` is left alone)."""
    chapter = parse(nb)
    found = problems(chapter, points, by_hand)
    if found:
        raise AssignmentError("; ".join(found))
    build = _Builder(points)
    for index, cell in enumerate(nb.cells):
        blocks = chapter.cell_blocks(index)
        if cell.cell_type == "markdown":
            build.markdown(blocks)
        elif cell.cell_type == "code":
            build.code(cell, *blocks)
        else:
            build.read_only("raw", cell.source)
    cells = build.cells
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = nbformat.from_dict({k: v for k, v in nb.metadata.items() if k != "widgets"})
    return out


class _Builder:
    """The assignment's cells, appended one chapter cell at a time."""

    def __init__(self, points: Mapping[str, float]) -> None:
        self.points = points
        self.cells: list = []
        self.answered: set[str] = set()

    def read_only(self, kind: str, source: str, metadata: dict | None = None) -> None:
        grade_id = f"cell-{len(self.cells):03d}"
        new = getattr(nbformat.v4, f"new_{kind}_cell")
        self.cells.append(new(source, id=grade_id, metadata=dict(metadata or {})))
        self.cells[-1].metadata["nbgrader"] = _meta(grade_id, kind, locked=True)

    def answer(self, ex: Exercise) -> None:
        """A written answer's cell, graded by hand (once per exercise)."""
        grade_id = _id(f"{ex.label}-answer")
        cell = nbformat.v4.new_markdown_cell(ex.solution_text, id=grade_id)
        cell.metadata["nbgrader"] = _meta(
            grade_id, "markdown", grade=True, solution=True, points=self.points[ex.label]
        )
        self.cells.append(cell)
        self.answered.add(ex.label)

    def markdown(self, blocks: Sequence) -> None:
        """Text runs as read-only cells, an exercise's statement with its points, and an answer
        cell for each exercise graded by hand; solutions are left out."""
        run: list[str] = []
        for block in blocks:
            if block.kind == TEXT:
                run.append(block.source)
                continue
            if "\n".join(run).strip():
                self.read_only("markdown", _tidy("\n".join(run)))
            run = []
            ex = block.exercise
            if block.kind == EXERCISE:
                self.read_only("markdown", _heading(ex, self.points[ex.label]))
                if not ex.autograded and not ex.of_kind(SOLUTION):
                    self.answer(ex)
            elif block.kind == SOLUTION and ex and not ex.autograded:
                if ex.label not in self.answered:
                    self.answer(ex)
        if "\n".join(run).strip():
            self.read_only("markdown", _tidy("\n".join(run)))

    def code(self, cell, block) -> None:
        """A solution becomes the students' stub, a grader a locked graded cell with its share
        of the points, anything else a read-only copy."""
        ex = block.exercise
        metadata = {k: v for k, v in cell.metadata.items() if k not in ("nbgrader", "tags")}
        tags = [t for t in cell.metadata.get("tags", []) if t != SOLUTION_TAG]
        if block.kind == SOLUTION_CODE:  # where the students write: nothing hides it
            tags = [t for t in tags if not t.startswith(("hide-", "remove-"))]
        if tags:
            metadata["tags"] = tags
        if block.kind == SOLUTION_CODE and ex is not None:
            grade_id = _unique(_id(f"{ex.label}-code"), self.cells)
            new = nbformat.v4.new_code_cell(_solution_source(ex, block.source), id=grade_id)
            new.metadata.update(metadata)
            new.metadata["nbgrader"] = _meta(grade_id, "code", solution=True)
            self.cells.append(new)
        elif block.kind == GRADER and ex is not None:
            grade_id = _unique(_id(f"{ex.label}-grader"), self.cells)
            source = f"{FRESH}\n" + GRADER_LINE.sub(
                r"graders().\g<call>.assert_passed()", cell.source
            )
            new = nbformat.v4.new_code_cell(source, id=grade_id)
            new.metadata.update(metadata)
            share = self.points[ex.label] / len(ex.graders)
            new.metadata["nbgrader"] = _meta(
                grade_id, "code", grade=True, locked=True, points=_number(share)
            )
            self.cells.append(new)
        else:  # the chapter's own code, and any solution or grader before the first exercise
            self.read_only("code", cell.source, metadata)


def _meta(
    grade_id: str,
    cell_type: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict:
    """nbgrader's cell metadata (schema 3), as its "Create Assignment" toolbar writes it."""
    meta = {
        "cell_type": cell_type,
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _id(text: str) -> str:
    """A grade id and cell id: letters, digits, - and _ only (nbformat's rule for cell ids)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:60]


def _unique(grade_id: str, cells: list) -> str:
    taken = {c.metadata["nbgrader"]["grade_id"] for c in cells}
    if grade_id not in taken:
        return grade_id
    return next(
        f"{grade_id}-{k}" for k in range(2, len(cells) + 2) if f"{grade_id}-{k}" not in taken
    )


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def _points(value: float) -> str:
    value = _number(value)
    return f"{value} point" + ("" if value == 1 else "s")


def _heading(ex: Exercise, points: float) -> str:
    """An ``{exercise}`` directive as plain Markdown that Jupyter renders."""
    title = f": {ex.title}" if ex.title else ""
    how = (
        "graded automatically by the test cell below your code"
        if ex.autograded
        else "graded by hand: write your answer in the cell below"
    )
    body = ex.of_kind(EXERCISE)[0].body
    return f"### Exercise {ex.number}{title}\n\n{body}\n\n*{_points(points)}, {how}.*"


def _solution_source(ex: Exercise, code: str) -> str:
    names = defined_names(code)
    if ex.autograded and names:
        what = f"# {ex.name}: write {', '.join(names)} in this cell; the test cell below grades it."
    else:
        what = f"# {ex.name}: the code for your answer, if it needs any (graded by hand)."
    return f"{what}\n{BEGIN}\n{code.rstrip()}\n{END}"


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def chapters(sources: Sequence[str | Path]) -> dict[str, Path]:
    """The chapter notebooks in ``sources`` (files or folders) that have exercises, by
    assignment name (the notebook's file name without ``.ipynb``, which must be unique)."""
    found: dict[str, Path] = {}
    for source in map(Path, sources):
        files = sorted(source.rglob("*.ipynb")) if source.is_dir() else [source]
        for path in files:
            if {".ipynb_checkpoints", "_build"} & set(path.parts):
                continue
            if not parse(nbformat.read(path, as_version=4)).exercises:
                continue
            if path.stem in found:
                raise AssignmentError(
                    f"two chapters are called {path.stem}: {found[path.stem]}, {path}"
                )
            found[path.stem] = path
    return found


def write_course(
    sources: Sequence[str | Path], out: str | Path, only: Collection[str] | None = None
) -> list[Path]:
    """Write ``out/source/<name>/<name>.ipynb`` for every chapter with exercises in ``sources``
    (those named in ``only``, if given), with the files it reads (:data:`FILES`), and
    ``out/nbgrader_config.py`` if missing; returns the notebooks written."""
    found = chapters(sources)
    unknown = sorted(set(only or ()) - set(found))
    if unknown:
        raise AssignmentError(f"no chapter with exercises called {', '.join(unknown)}")
    out = Path(out)
    written = []
    for name, path in found.items():
        if only and name not in only:
            continue
        try:
            nb = assignment(nbformat.read(path, as_version=4))
        except AssignmentError as exc:
            raise AssignmentError(f"{path}: {exc}") from None
        target = out / "source" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
        for relative in FILES.get(name, ()):
            src, dst = path.parent / relative, target.parent / relative
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            elif src.exists():
                shutil.copy2(src, dst)
    config = out / CONFIG
    if not config.exists():
        config.write_text(CONFIG_TEXT)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attncv.book.assign",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="*",
        default=["chapters"],
        help="chapter notebooks or folders of them (default: chapters)",
    )
    parser.add_argument(
        "-o", "--out", default="assignments", help="the course directory (default: assignments)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="only these chapters (for example: se eca)"
    )
    args = parser.parse_args(argv)
    try:
        written = write_course(args.sources, args.out, args.only)
    except AssignmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not written:
        print(f"No chapter with exercises in {', '.join(args.sources)}.", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    names = [p.parent.name for p in written]
    print(f"{len(names)} assignments in {Path(args.out) / 'source'}/: {' '.join(names)}")
    print(f"Next: cd {args.out} && nbgrader generate_assignment {names[0]}  (one per assignment)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
