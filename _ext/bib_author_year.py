"""Sphinx extension: label bibliography entries "Hu et al., 2018", like the in-text citations.

With ``bibtex_reference_style: author_year`` the text reads "Hu et al. [2018]", but pybtex's
default ``alpha`` style would list the entry as "[HSS18]". This registers the pybtex formatting
style ``attncv_author_year``: the ``unsrt`` entry format, entries sorted by author, year and
title, and author-year labels (with a, b, ... when two entries would get the same label).
Select it with ``bibtex_default_style: attncv_author_year``.

It also turns off docutils' citation back-links: a bibliography entry cited twice on a page
would otherwise read "[Hu et al., 2018] (1,2)", two bare numbers that say nothing to a reader
(sphinxcontrib-bibtex has no setting for them; they are docutils' ``footnote_backlinks``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from pybtex.database import Entry, Person
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx

STYLE_NAME = "attncv_author_year"


def _surname(person: Person) -> str:
    latex = " ".join(person.prelast_names + person.last_names)
    return Text.from_latex(latex).render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    """Labels "He", "Smith and Topin" or "Hu et al.", a comma and the year."""

    def format_label(self, entry: Entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_surname(p) for p in people]
        if not names:
            who = entry.fields.get("key", entry.key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries: Iterable[Entry]) -> Iterator[str]:
        labels = [self.format_label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] > 1:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def no_backlinks(app: Sphinx) -> None:
    """The HTML writer reads its docutils settings from the environment's: set the one that
    draws the "(1,2)" back-links under every bibliography label."""
    app.env.settings["footnote_backlinks"] = False


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", no_backlinks)
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle, force=True)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
