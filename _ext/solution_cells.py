"""Sphinx extension: a solution's code cell sits inside its solution dropdown.

A chapter's code solution is a code cell tagged ``solution`` (it must run, so the grader below it
can check the reference), and its words are a ``{solution}`` directive with ``:class: dropdown``.
myst-nb would render the cell as a generic "Show code cell source" toggle of its own, between the
exercise and its grader: curiosity opens the answer. This post-transform moves each such cell
(input and outputs together, its own toggle removed) to the end of its exercise's solution, so
the answer opens only with the solution's dropdown.

A solution cell belongs to the last exercise before it on the page (whether the solution's
words come before or after it); a cell with no exercise before it, or whose exercise has no
solution directive on the page, is left where it is and reported as a warning (the -W build
fails on it).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

logger = logging.getLogger(__name__)
EXERCISES = (exercise_node, exercise_enumerable_node)


def is_solution_cell(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.container)
        and node.get("nb_element") == "cell_code"
        and "tag_solution" in node.get("classes", [])
    )


def exercise_label(node: nodes.Element) -> str:
    """The label a ``{solution}`` names for this exercise (its ``label`` or first id)."""
    return node.get("label") or (node["ids"][0] if node.get("ids") else "")


def solution_body(solution: nodes.Element) -> nodes.Element:
    """Where the solution's content lives: sphinx-exercise's content section, else the node."""
    for child in solution.children:
        if isinstance(child, nodes.section):
            return child
    return solution


class SolutionCellsIntoDropdowns(SphinxPostTransform):
    # After sphinx-exercise resolves titles and links (20-22) and before myst-nb wraps hidden
    # inputs in their own toggles (HideInputCells, 199).
    default_priority = 30
    formats = ("html",)

    def run(self, **kwargs: object) -> None:
        solutions = {n.get("target_label", ""): n for n in self.document.findall(solution_node)}
        current = ""
        moves: list[tuple[nodes.Element, str]] = []
        for node in self.document.findall(
            lambda n: isinstance(n, EXERCISES) or is_solution_cell(n)
        ):
            if isinstance(node, EXERCISES):
                current = exercise_label(node)
            else:
                moves.append((node, current))
        for cell, label in moves:
            solution = solutions.get(label)
            if solution is None:
                logger.warning(
                    "a code cell tagged 'solution' has no solution dropdown to go in "
                    f"(exercise {label or 'none before it'}): add a {{solution}} directive "
                    "with :class: dropdown for that exercise",
                    location=cell,
                )
                continue
            cell.parent.remove(cell)
            cell["hide_mode"] = None  # the dropdown hides it: no second toggle inside
            cell["classes"] = [c for c in cell["classes"] if not c.startswith("tag_hide")]
            cell["classes"].append("attncv-solution-code")
            solution_body(solution).append(cell)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_post_transform(SolutionCellsIntoDropdowns)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
