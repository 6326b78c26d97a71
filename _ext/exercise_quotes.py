"""Sphinx extension: solution headers get the same curly quotes as their exercise's title.

Sphinx's smart quotes turn "SE's parameters" into "SE’s parameters" in an exercise's title, but
sphinx-exercise builds each solution's header ("Solution to Exercise 1 (SE's parameters ...)")
later, from the exercise node as it was parsed, so the header kept the straight apostrophe. This
post-transform runs after sphinx-exercise has built the headers and applies docutils' own
smart-quote rules to their text, so title and header read the same.
"""

from __future__ import annotations

from docutils import nodes
from docutils.utils.smartquotes import educateQuotes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx_exercise.nodes import solution_node


def curly(text: str) -> str:
    return educateQuotes(text, language="en")


class CurlyQuotesInSolutionTitles(SphinxPostTransform):
    default_priority = 25  # after sphinx-exercise's ResolveTitlesInSolutions (21) and links (22)

    def run(self) -> None:
        for solution in self.document.findall(solution_node):
            if not solution.children or not isinstance(solution.children[0], nodes.title):
                continue
            for text in list(solution.children[0].findall(nodes.Text)):
                if isinstance(text.parent, (nodes.literal, nodes.math)):
                    continue
                new = curly(str(text))
                if new != str(text):
                    text.parent.replace(text, nodes.Text(new))


def setup(app: Sphinx) -> dict[str, object]:
    app.add_post_transform(CurlyQuotesInSolutionTitles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
