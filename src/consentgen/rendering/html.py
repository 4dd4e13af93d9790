"""HTML from the document's Markdown: markdown-it-py (raw HTML off) inside a print-ready page."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import TYPE_CHECKING, Any

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from consentgen.model import Document

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _heading_ids(state: Any) -> None:
    """Give each heading a stable id, so print CSS and links can address sections."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            name = slug(tokens[i + 1].content)
            seen[name] = seen.get(name, 0) + 1
            token.attrSet("id", name if seen[name] == 1 else f"{name}-{seen[name]}")


_SECTION_START = re.compile(r"^(?=## )", re.MULTILINE)
_TOKEN = re.compile(r"CGNAME(\d{4})PLACEHOLDER")


def markdown_to_html(markdown: str) -> str:
    """markdown-it-py's HTML for a document's Markdown, rendered one `## ` section at a time,
    each cached under the checksum of its Markdown (the caller passes Markdown that holds no
    client names).

    Sections are separate blocks in CommonMark, so this is the same HTML as rendering the whole
    text (a test checks it); markdown-it-py is the slow part of a build, and on a warm cache it
    is not even imported.
    """
    from consentgen import cache

    parser: MarkdownIt | None = None
    parts = []
    for chunk in _SECTION_START.split(markdown):
        key = cache.entry_key("html", hashlib.sha256(chunk.encode("utf-8")).hexdigest(),
                              ("markdown_it",))  # fmt: skip
        html = cache.load("html", key)
        if not isinstance(html, str):
            parser = parser or markdown_parser()
            html = parser.render(chunk)
            cache.store("html", key, html)
        parts.append(html)
    return "".join(parts)


def markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def to_html(document: Document, env: SandboxedEnvironment) -> str:
    """The print-ready page. Its body is rendered from a skeleton of the document whose
    signature names are placeholders, so every part of it can be cached; the names take their
    places afterwards as text, escaped as the page template escapes every value it is given."""
    from consentgen.rendering.markdown import one_line, to_markdown

    names = [sig.name for sig in document.signatures if sig.name]
    tokens = iter(f"CGNAME{i:04d}PLACEHOLDER" for i in range(len(names)))
    skeleton = dataclasses.replace(document, signatures=tuple(
        dataclasses.replace(sig, name=next(tokens)) if sig.name else sig
        for sig in document.signatures))  # fmt: skip
    pieces = _TOKEN.split(markdown_to_html(to_markdown(skeleton, env)))  # html, index, html...
    if len(pieces) == 2 * len(names) + 1:
        # The name as the Markdown shows it: on one line; markdown-it-py strips the white space
        # that ends a paragraph (a signature line ends with the name) and, as CommonMark says,
        # shows U+0000 as U+FFFD (a Request never holds one; a Document made by hand might).
        shown = [one_line(name).rstrip().replace("\x00", "\ufffd") for name in names]
        body = Markup("").join(
            Markup(piece) if i % 2 == 0 else shown[int(piece)] for i, piece in enumerate(pieces)
        )
    else:  # some other text looks like a placeholder: render the real thing, uncached
        body = Markup(markdown_parser().render(to_markdown(document, env)))
    return page(env, document, body)


def page(env: SandboxedEnvironment, doc: Any, body: str, **more: str) -> str:
    """`body` (HTML) in the print-ready page (page.html.j2 with print.css); `doc` gives the
    page its metadata, `more` any other variable the template reads (a `title`)."""
    html_env = env.overlay(autoescape=True, finalize=None)
    template = html_env.get_template("page.html.j2")
    css = html_env.loader.get_source(html_env, "print.css")[0]  # type: ignore[union-attr]
    return template.render(doc=doc, body=body, css=style_text(css), **more)


def style_text(css: str) -> Markup:
    """A stylesheet as the text of a <style> element: verbatim, as a <style> element's text is
    never unescaped (HTML-escaped, `" of "` became `&#34; of &#34;`, which CSS does not read as
    quotes), except that nothing in it can end the element: a --data-dir print.css is the
    user's file, and `</style><script>` in it must stay text. `</` becomes `<\\/`, which CSS
    reads as `</` in a string; elsewhere in a stylesheet (a comment, or not CSS at all) it
    changes nothing that CSS would use."""
    return Markup(css.replace("</", "<\\/"))
