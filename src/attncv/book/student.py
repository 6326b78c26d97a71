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
import ast
import re
import sys
from collections.abc import Sequence
from pathlib import Path

SOLUTION_TAG = "solution"
STUB_TAGS = ["exercise-stub", "raises-exception"]
_FENCE = re.compile(r"^\s*(?P<fence>:{3,}|`{3,})\{(?P<name>[\w-]+)\}\s*(?P<arg>\S*)")
_LABEL = re.compile(r"^\s*:label:\s*(\S+)", re.M)
_GRADER = re.compile(r"^assert\s+(check_\w+\(.*\))\s*$", re.M)


class _Todo:
    """Stands for a reader's class or function until they write it; using it explains why not."""

    exercise = "this exercise"

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} is not written yet: write it in the cell "
            f"of {self.exercise} and run that cell, then run this one again."
        )


def todo(name: str, exercise: str) -> type:
    """A placeholder called ``name`` for the reader's answer to ``exercise``."""
    return type(name, (_Todo,), {"exercise": exercise})


def _defined_names(source: str) -> list[str]:
    """Top-level classes, functions and assigned names of a code cell."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics: fall back to the plain patterns
        return re.findall(r"^(?:class|def)\s+(\w+)|^(\w+)\s*=", source, re.M)
    names = []
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


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
    out, lines, i, open_span = [], text.splitlines(), 0, False
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m and m["name"] in ("solution", "solution-start"):
            gated = m["name"] == "solution-start"
            end = _span_end(lines, i, m["fence"], gated)
            open_span = end is None and gated  # a plain fence ends with its cell
            i = len(lines) if end is None else end + 1
            continue
        out.append(lines[i])
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n"), open_span


def _span_end(lines: list[str], start: int, fence: str | None, gated: bool) -> int | None:
    for j in range(start + (0 if fence is None else 1), len(lines)):
        m = _FENCE.match(lines[j])
        if gated and m and m["name"] == "solution-end":
            return _closing(lines, j)
        if (
            not gated
            and fence
            and re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", lines[j])
        ):
            return j
    return None


def _closing(lines: list[str], j: int) -> int:
    """``:::{solution-end}`` may close on the same line or the next fence line."""
    fence = _FENCE.match(lines[j])["fence"]
    nxt = j + 1
    if nxt < len(lines) and re.fullmatch(
        rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", lines[nxt]
    ):
        return nxt
    return j


def strip_solutions(nb):  # nbformat.NotebookNode -> NotebookNode
    """The student version of a notebook (a new object; ``nb`` is left alone)."""
    import copy

    nb = copy.deepcopy(nb)
    cells, number, label, in_span = [], 0, None, False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            labels = _exercise_labels(cell.source)
            number, label = number + len(labels), labels[-1] if labels else label
            strip = _continue_span if in_span else strip_markdown
            cell.source, in_span = strip(cell.source)
            if cell.source.strip():
                cells.append(cell)
            continue
        if in_span:
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            tags = cell.metadata.get("tags", [])
            cell.source = _GRADER.sub(r"\1;", cell.source)  # a report, not an AssertionError
            if SOLUTION_TAG in tags:
                cell.source = stub(max(number, 1), label, _defined_names(cell.source))
                cell.metadata["tags"] = [
                    t for t in tags if t not in (SOLUTION_TAG, "hide-input", "hide-cell")
                ] + STUB_TAGS
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def _continue_span(text: str) -> tuple[str, bool]:
    """Inside an open ``{solution-start}`` span: drop text up to its ``{solution-end}``."""
    lines = text.splitlines()
    end = _span_end(lines, 0, None, True)
    if end is None:
        return "", True
    rest, still_open = strip_markdown("\n".join(lines[end + 1 :]))
    return rest, still_open


def _exercise_labels(text: str) -> list[str]:
    """Labels of the ``{exercise}`` directives in ``text`` (``""`` for unlabelled ones)."""
    labels, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m and m["name"] in ("exercise", "exercise-start"):
            found = _LABEL.match("\n".join(lines[i + 1 : i + 4]))
            labels.append(m["arg"] or (found.group(1) if found else ""))
    return labels


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
