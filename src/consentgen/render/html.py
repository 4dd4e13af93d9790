"""HTML from the document's Markdown: markdown-it-py (raw HTML off) inside a print-ready page."""

from __future__ import annotations

import re
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

from consentgen.model import Document


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _heading_ids(state: Any) -> None:
    """Give each heading a stable id, so print CSS and links can address sections."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            slug = _slug(tokens[i + 1].content)
            seen[slug] = seen.get(slug, 0) + 1
            token.attrSet("id", slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")


def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def to_html(document: Document, markdown: str, env: SandboxedEnvironment) -> str:
    body = markdown_parser().render(markdown)
    html_env = env.overlay(autoescape=True, finalize=None)
    page = html_env.get_template("page.html.j2")
    css = html_env.loader.get_source(html_env, "print.css")[0]  # type: ignore[union-attr]
    return page.render(doc=document, body=body, css=css)
