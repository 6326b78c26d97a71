"""Sphinx extension: every verdict callout has an anchor and a line in the page's contents.

A verdict's HTML (``attncv.views.evidence.Verdict._repr_html_``) carries ``id="verdict-<name>"``
(the name its cell glued it under). A callout from an older output without one gets
``verdict-<n>`` here, numbered on its page. Each callout is then listed in the page's contents
(the "Contents" sidebar) under the section that holds it, as "Verdict: <outcome>", so a reader
can jump to a chapter's verdicts. Each anchor is also a label of the page, so Markdown can link
to it as to a section: ``[(details)](#verdict-se-acc)``.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

CALLOUT = re.compile(r'<div class="attncv-verdict attncv-verdict-(\w+)"( id="([^"]+)")?')
SHORT = {"holds": "holds", "opposite": "the opposite", "unclear": "too small to tell"}


def _toc_item(toc: nodes.Node, section_id: str) -> nodes.list_item | None:
    for ref in toc.findall(nodes.reference):
        if ref.get("anchorname") == f"#{section_id}":
            return ref.parent.parent  # reference -> compact_paragraph -> list_item
    return None


def anchor_verdicts(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    toc = env.tocs.get(env.docname)
    count = 0
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        match = CALLOUT.search(text)
        if raw.get("format") != "html" or not match:
            continue
        count += 1
        kind, anchor = match.group(1), match.group(3)
        if not anchor:
            anchor = f"verdict-{count}"
            text = text.replace(match.group(0), f'{match.group(0)} id="{anchor}"', 1)
            raw.replace_self(nodes.raw(text, text, format="html", classes=raw["classes"]))
        label = f"Verdict: {SHORT.get(kind, kind)}"
        std = env.get_domain("std")
        if anchor not in std.anonlabels:  # a link target for Markdown: [(details)](#anchor)
            std.anonlabels[anchor] = (env.docname, anchor)
            std.labels[anchor] = (env.docname, anchor, label)
        section = next((s for s in _ancestors(raw) if isinstance(s, nodes.section)), None)
        item = _toc_item(toc, section["ids"][0]) if toc and section and section["ids"] else None
        if item is None:
            continue
        ref = nodes.reference("", label, internal=True, refuri=env.docname, anchorname=f"#{anchor}")
        entry = nodes.list_item("", addnodes.compact_paragraph("", "", ref))
        sub = next((c for c in item.children if isinstance(c, nodes.bullet_list)), None)
        if sub is None:
            sub = nodes.bullet_list()
            item += sub
        sub += entry


def _ancestors(node: nodes.Node):
    while node is not None:
        node = node.parent
        yield node


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("doctree-read", anchor_verdicts, priority=900)  # after the TOC collector (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
