"""The exercises of a chapter notebook, found by structure, never by prose.

One parser for the two derived versions of a chapter: the student copies (:mod:`.student`) and
the nbgrader assignments (:mod:`.assign`). :func:`parse` cuts a notebook into :class:`Block`\\ s,
in order, and groups them into :class:`Exercise`\\ s:

- a MyST ``{exercise}`` directive (or an ``{exercise-start}`` ... ``{exercise-end}`` span) opens
  an exercise. Its ``:label:`` option is its label, its argument (if any) its title; exercises are
  numbered 1, 2, 3 in each notebook, as the book numbers them;
- a ``{solution}`` directive (or a ``{solution-start}`` ... ``{solution-end}`` span, which may
  run over several cells) is the book's answer to the exercise its argument names;
- a code cell tagged ``solution``, or a code cell inside a solution span, is solution code;
- a code cell with a line ``assert check_*(...)`` is a grader;
- everything else is text or code of the chapter.

Solution code and graders belong to the latest exercise above them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

SOLUTION_TAG = "solution"

# Kinds of blocks
TEXT = "text"  # markdown outside exercise and solution directives
EXERCISE = "exercise"  # an {exercise} directive, fences and options included
SOLUTION = "solution"  # a {solution} directive, or a part of a solution span
CODE = "code"  # a code cell of the chapter
SOLUTION_CODE = "solution-code"  # a code cell tagged `solution`, or inside a solution span
GRADER = "grader"  # a code cell that asserts a check_*() grader
RAW = "raw"  # a raw cell

FENCE = re.compile(r"^\s*(?P<fence>:{3,}|`{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
GRADER_LINE = re.compile(r"^assert\s+(?P<call>check_\w+\(.*\))[ \t]*$", re.M)


@dataclass
class Block:
    """A part of a notebook: a directive or a run of text in a markdown cell, or a whole
    code (or raw) cell."""

    kind: str
    source: str  # as written: a directive with its fences and options, a cell's whole source
    cell: int  # index of the notebook cell it comes from
    body: str = ""  # EXERCISE and SOLUTION: the directive's content, without fences and options
    label: str = ""  # EXERCISE: its label; SOLUTION: the label of the exercise it answers
    title: str = ""  # EXERCISE: the directive's argument
    in_span: bool = False  # SOLUTION_CODE: inside a {solution-start} span (part of its answer)
    exercise: Exercise | None = field(default=None, repr=False)  # the exercise it belongs to


@dataclass
class Exercise:
    """One exercise: its number in the notebook, label, title, and the blocks that belong to it
    (the directive first, then solutions, solution code and graders, in notebook order)."""

    number: int
    label: str
    title: str
    blocks: list[Block] = field(default_factory=list, repr=False)

    def of_kind(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    @property
    def graders(self) -> list[Block]:
        return self.of_kind(GRADER)

    @property
    def solution_code(self) -> list[Block]:
        return self.of_kind(SOLUTION_CODE)

    @property
    def solution_text(self) -> str:
        """The book's written answer: the bodies of its ``{solution}`` blocks."""
        return "\n\n".join(b.body for b in self.of_kind(SOLUTION) if b.body).strip()

    @property
    def checks(self) -> list[str]:
        """The names of the ``check_*()`` functions its graders call."""
        return [GRADER_LINE.search(b.source)["call"].split("(")[0] for b in self.graders]

    @property
    def autograded(self) -> bool:
        """Graded by a ``check_*()`` cell; otherwise a person grades it."""
        return bool(self.graders)

    @property
    def name(self) -> str:
        """ "Exercise 2 (ex-se-2)", as the stubs and messages call it."""
        return f"Exercise {self.number}" + (f" ({self.label})" if self.label else "")


@dataclass
class Chapter:
    """A notebook cut into blocks, and its exercises."""

    blocks: list[Block]
    exercises: list[Exercise]

    def cell_blocks(self, index: int) -> list[Block]:
        return [b for b in self.blocks if b.cell == index]


def parse(nb) -> Chapter:  # nbformat.NotebookNode -> Chapter
    """Cut ``nb`` into blocks and find its exercises (see the module's docstring)."""
    blocks: list[Block] = []
    in_span = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            parts, in_span = split_markdown(cell.source, in_span)
            blocks += [Block(kind, "\n".join(lines), index, **info) for kind, lines, info in parts]
        elif cell.cell_type == "code":
            tagged = SOLUTION_TAG in cell.metadata.get("tags", [])
            if tagged or in_span:
                blocks.append(Block(SOLUTION_CODE, cell.source, index, in_span=in_span))
            elif GRADER_LINE.search(cell.source):
                blocks.append(Block(GRADER, cell.source, index))
            else:
                blocks.append(Block(CODE, cell.source, index))
        else:
            blocks.append(Block(RAW, cell.source, index))
    exercises: list[Exercise] = []
    current: Exercise | None = None
    for block in blocks:
        if block.kind == EXERCISE:
            current = Exercise(len(exercises) + 1, block.label, block.title)
            exercises.append(current)
            owner = current
        elif block.kind == SOLUTION:
            named = [e for e in exercises if block.label and e.label == block.label]
            owner = named[-1] if named else current
        elif block.kind in (SOLUTION_CODE, GRADER):
            owner = current
        else:
            continue
        block.exercise = owner
        if owner is not None:
            owner.blocks.append(block)
    return Chapter(blocks, exercises)


def split_markdown(text: str, in_span: bool = False) -> tuple[list[tuple[str, list, dict]], bool]:
    """Cut a markdown cell into ``(kind, lines, info)`` parts (TEXT, EXERCISE, SOLUTION).

    ``in_span``: a ``{solution-start}`` span opened in an earlier cell is still open. Returns
    the parts and whether a span is still open at the end of this cell. A plain directive left
    unclosed ends with its cell.
    """
    lines, parts, i, text_run = text.splitlines(), [], 0, []
    if in_span:
        end = _end_directive(lines, 0, "solution-end")
        stop = len(lines) if end is None else _closing(lines, end) + 1
        parts.append((SOLUTION, lines[:stop], {"body": _trim(lines[:end])}))
        if end is None:
            return parts, True
        i = stop
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or m["name"] not in ("exercise", "exercise-start", "solution", "solution-start"):
            text_run.append(lines[i])
            i += 1
            continue
        if text_run:
            parts.append((TEXT, text_run, {}))
            text_run = []
        gated = m["name"].endswith("-start")
        base = m["name"].removesuffix("-start")
        options, first = _options(lines, i + 1)
        if gated:  # the start directive closes itself; the body runs up to the end directive
            if first < len(lines) and _is_closing(lines[first], m["fence"]):
                first += 1
            end = _end_directive(lines, first, f"{base}-end")
            stop = len(lines) if end is None else _closing(lines, end) + 1
        else:
            end = _closing_fence(lines, i + 1, m["fence"])
            stop = len(lines) if end is None else end + 1
        body = _trim(lines[first:end])
        if base == "exercise":
            info = {"label": options.get("label", ""), "title": m["arg"], "body": body}
            parts.append((EXERCISE, lines[i:stop], info))
        else:
            info = {"label": m["arg"].split()[0] if m["arg"] else "", "body": body}
            parts.append((SOLUTION, lines[i:stop], info))
            if end is None and gated:
                return parts, True
        i = stop
    if text_run:
        parts.append((TEXT, text_run, {}))
    return parts, False


def _options(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The ``:key: value`` lines right after a directive's first line, and where they end."""
    options, j = {}, start
    while j < len(lines) and (m := OPTION.match(lines[j])):
        options[m["key"]] = m["value"]
        j += 1
    return options, j


def _is_closing(line: str, fence: str) -> bool:
    return re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", line) is not None


def _closing_fence(lines: list[str], start: int, fence: str) -> int | None:
    """The line that closes a directive opened with ``fence``, from ``start`` on."""
    return next((j for j in range(start, len(lines)) if _is_closing(lines[j], fence)), None)


def _end_directive(lines: list[str], start: int, name: str) -> int | None:
    """The line of the ``{name}`` directive (``solution-end``) that ends a span."""
    return next(
        (j for j in range(start, len(lines)) if (m := FENCE.match(lines[j])) and m["name"] == name),
        None,
    )


def _closing(lines: list[str], j: int) -> int:
    """``:::{solution-end}`` may close on the same line or on the next fence line."""
    fence = FENCE.match(lines[j])["fence"]
    nxt = j + 1
    return nxt if nxt < len(lines) and _is_closing(lines[nxt], fence) else j


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def defined_names(source: str) -> list[str]:
    """Top-level classes, functions and assigned names of a code cell."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics: fall back to the plain patterns
        found = re.findall(r"^(?:class|def)\s+(\w+)|^(\w+)\s*=", source, re.M)
        return list(dict.fromkeys(a or b for a, b in found))
    names = []
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))
