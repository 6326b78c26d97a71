"""Student copies of the chapter notebooks: the solutions out, a clear stub in their place.

    python -m attncv.book.student                     # chapters/ -> student/
    python -m attncv.book.student chapters/channel -o handout

In each copy, every code cell tagged ``solution`` becomes a stub that names the exercise, defines
placeholders for the names the solution defined (so the grader below it reports "not written yet"
instead of a ``NameError``) and raises ``NotImplementedError`` with what to do; the stub is tagged
``raises-exception`` so a whole-notebook run (nbclient, jupyter-book) goes on past it, and
``assert check_x(...)`` becomes ``check_x(...);``, so an unfinished exercise gets the grader's
report without an ``AssertionError`` on top. MyST ``{solution}`` blocks (and
``{solution-start}`` ... ``{solution-end}`` spans) leave the markdown, and all outputs are
cleared, so no answer is left in the file.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .structure import (
    EXERCISE,
    GRADER_LINE,
    SOLUTION_CODE,
    SOLUTION_TAG,
    TEXT,
    defined_names,
    parse,
    split_markdown,
)

STUB_TAGS = ["exercise-stub", "raises-exception"]


class _Todo:
    """Stands for a reader's class or function until they write it; using it explains why not."""

    exercise = "this exercise"
    attncv_placeholder = True  # the graders report it as "not written yet", not as a cheat

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} is not written yet: write it in the cell "
            f"of {self.exercise} and run that cell, then run this one again."
        )


def todo(name: str, exercise: str) -> type:
    """A placeholder called ``name`` for the reader's answer to ``exercise``."""
    return type(name, (_Todo,), {"exercise": exercise})


def stub(number: int, label: str | None, names: Sequence[str]) -> str:
    """The source of the cell that replaces a solution."""
    what = f"Exercise {number}" + (f" ({label})" if label else "")
    task = f"write {', '.join(names)}" if names else "write your answer"
    lines = [
        f"# {what}: your turn. {task[0].upper()}{task[1:]} in this cell, replacing these lines."
    ]
    if names:
        lines += ["from attncv.book.student import todo", ""]
        lines += [f"{n} = todo({n!r}, {what!r})" for n in names]
    message = f"{what}: {task} in this cell, replacing these lines, then run it again."
    lines.append(f"raise NotImplementedError({message!r})")
    return "\n".join(lines)


def strip_markdown(text: str) -> tuple[str, bool]:
    """Remove ``{solution}`` blocks; returns the text and whether a ``{solution-start}`` span
    is still open at its end (then the following cells belong to the solution)."""
    parts, open_span = split_markdown(text)
    return _join([lines for kind, lines, _ in parts if kind in (TEXT, EXERCISE)]), open_span


def _join(runs: Sequence[Sequence[str]]) -> str:
    text = "\n".join(line for lines in runs for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def strip_solutions(nb):  # nbformat.NotebookNode -> NotebookNode
    """The student version of a notebook (a new object; ``nb`` is left alone)."""
    import copy

    nb = copy.deepcopy(nb)
    chapter = parse(nb)
    cells = []
    for index, cell in enumerate(nb.cells):
        blocks = chapter.cell_blocks(index)
        if cell.cell_type == "markdown":
            cell.source = _join(
                [b.source.split("\n") for b in blocks if b.kind in (TEXT, EXERCISE)]
            )
            if cell.source.strip():
                cells.append(cell)
            continue
        if cell.cell_type == "code":
            (block,) = blocks
            if block.kind == SOLUTION_CODE and block.in_span:
                continue  # inside a {solution-start} span: the solution's own code
            cell.outputs, cell.execution_count = [], None
            cell.source = GRADER_LINE.sub(r"\g<call>;", cell.source)  # a report, no AssertionError
            if block.kind == SOLUTION_CODE:
                exercise = block.exercise
                number, label = (exercise.number, exercise.label) if exercise else (1, None)
                cell.source = stub(number, label or None, defined_names(block.source))
                tags = cell.metadata.get("tags", [])
                cell.metadata["tags"] = [
                    t for t in tags if t not in (SOLUTION_TAG, "hide-input", "hide-cell")
                ] + STUB_TAGS
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copies(sources: Sequence[str | Path], out: str | Path) -> list[Path]:
    """Write the student version of every notebook in ``sources`` (files or folders) to ``out``,
    keeping the paths below each folder; returns the written files."""
    import nbformat

    written = []
    for source in map(Path, sources):
        files = sorted(source.rglob("*.ipynb")) if source.is_dir() else [source]
        for path in files:
            if ".ipynb_checkpoints" in path.parts or "_build" in path.parts:
                continue
            target = Path(out) / (path.relative_to(source) if source.is_dir() else path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), target)
            written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attncv.book.student",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="*",
        default=["chapters"],
        help="notebooks or folders of notebooks (default: chapters)",
    )
    parser.add_argument("-o", "--out", default="student", help="output folder (default: student)")
    args = parser.parse_args(argv)
    written = write_student_copies(args.sources, args.out)
    if not written:
        print(f"No notebooks found in {', '.join(args.sources)}.", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(written)} student notebooks written to {args.out}/ (solutions removed).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
