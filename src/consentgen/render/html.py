"""HTML from the document's Markdown: markdown-it-py (raw HTML off) inside a print-ready page."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

from consentgen.cache import cache_dir
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


_SECTION_START = re.compile(r"^(?=## )", re.MULTILINE)
_NAMES_SECTION = "## Signatures\n"  # the only part of a document that holds clients' names


def markdown_to_html(markdown: str) -> str:
    """markdown-it-py's HTML for the document, rendered one `## ` section at a time.

    Sections are separate blocks in CommonMark, so this is the same HTML as rendering the whole
    text (a test checks it); rendering them apart lets the HTML of every section that holds no
    client name be cached under its checksum, since markdown-it-py is the slow part of a build.
    """
    parser: MarkdownIt | None = None
    folder = cache_dir("html")
    parts = []
    for chunk in _SECTION_START.split(markdown):
        cacheable = folder is not None and not chunk.startswith(_NAMES_SECTION)
        path = folder / (hashlib.sha256(chunk.encode("utf-8")).hexdigest() + ".html") if (
            cacheable and folder is not None) else None  # fmt: skip
        if path is not None and path.is_file():
            parts.append(path.read_text(encoding="utf-8"))
            continue
        parser = parser or markdown_parser()
        html = parser.render(chunk)
        if path is not None:
            _store(path, html)
        parts.append(html)
    return "".join(parts)


def _store(path: Path, html: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def to_html(document: Document, markdown: str, env: SandboxedEnvironment) -> str:
    body = markdown_to_html(markdown)
    html_env = env.overlay(autoescape=True, finalize=None)
    page = html_env.get_template("page.html.j2")
    css = html_env.loader.get_source(html_env, "print.css")[0]  # type: ignore[union-attr]
    return page.render(doc=document, body=body, css=css)
