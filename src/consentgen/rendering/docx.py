"""DOCX from the document's Markdown token stream, through python-docx (extra consentgen[docx]).

The same Markdown as every other format: headings, paragraphs, bold and italic, lists, quotes,
links (their address kept in the text), rules and the signature lines. The file's dates come from
the document's --as-of date, so the same document gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

from markdown_it.token import Token

from consentgen.errors import UserError
from consentgen.model import Document
from consentgen.rendering.html import markdown_parser, slug

PAGE_BREAK_BEFORE = ("signatures", "legal-basis")

# What XML 1.0 cannot hold (and python-docx refuses with a traceback), and the C1 controls:
# shown as U+FFFD. Names never hold any (model.Request); a profile or a template might.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


MISSING_PYTHON_DOCX = (
    "DOCX output needs python-docx: pip install 'python-docx>=1.1' (in a consentgen checkout: "
    "pip install '.[docx]')"
)


def require() -> None:
    """One line saying what to install when python-docx is missing."""
    try:
        import docx  # noqa: F401
    except ImportError:
        raise UserError(MISSING_PYTHON_DOCX) from None


def to_docx(document: Document, markdown: str) -> bytes:
    try:
        import docx
        from docx.shared import Pt
    except ImportError:
        raise UserError(MISSING_PYTHON_DOCX) from None

    out = docx.Document()
    style = out.styles["Normal"]
    style.font.name = "Georgia"
    style.font.size = Pt(11)
    when = dt.datetime.combine(document.as_of, dt.time(12, 0), tzinfo=dt.UTC)
    props = out.core_properties
    props.title = _safe(f"Informed Consent for Psychotherapy: {document.jurisdiction_name}")
    props.author = props.last_modified_by = "consentgen"
    props.created = props.modified = when
    props.revision = 1
    props.comments = _safe(f"legal data version {document.data_version}")

    _Writer(out).write(markdown_parser().parse(markdown))
    raw = io.BytesIO()
    out.save(raw)
    return _fixed_zip_dates(raw.getvalue(), when)


class _Writer:
    def __init__(self, out: Any) -> None:
        self.out = out
        self.lists: list[str] = []
        self.quote = 0
        self.heading = 0

    def write(self, tokens: list[Token]) -> None:
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "heading_open":
                self.heading = int(token.tag[1])
                title = tokens[i + 1].content
                if slug(title) in PAGE_BREAK_BEFORE:  # as the print CSS does for HTML and PDF
                    self.out.add_page_break()
            elif kind == "heading_close":
                self.heading = 0
            elif kind == "bullet_list_open":
                self.lists.append("List Bullet")
            elif kind == "ordered_list_open":
                self.lists.append("List Number")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "blockquote_open":
                self.quote += 1
            elif kind == "blockquote_close":
                self.quote -= 1
            elif kind == "hr":
                self.out.add_paragraph("_" * 40)
            elif kind == "inline":
                self._inline(token)

    def _inline(self, token: Token) -> None:
        if self.heading:
            paragraph = self.out.add_heading(level=min(self.heading, 4))
        elif self.lists:
            paragraph = self.out.add_paragraph(style=self.lists[-1])
        elif self.quote:
            paragraph = self.out.add_paragraph(style="Intense Quote")
        else:
            paragraph = self.out.add_paragraph()
        bold = italic = False
        link: str | None = None
        for child in token.children or []:
            if child.type == "strong_open":
                bold = True
            elif child.type == "strong_close":
                bold = False
            elif child.type == "em_open":
                italic = True
            elif child.type == "em_close":
                italic = False
            elif child.type == "link_open":
                link = str(child.attrs.get("href", ""))
            elif child.type == "link_close":
                link = None
            elif child.type in ("text", "code_inline"):
                run = paragraph.add_run(_safe(child.content))
                run.bold, run.italic = bold or None, italic or None
                if link is not None and child.content != link:
                    paragraph.add_run(_safe(f" ({link})"))
            elif child.type in ("softbreak", "hardbreak"):
                paragraph.add_run(" ")


def _fixed_zip_dates(data: bytes, when: dt.datetime) -> bytes:
    """python-docx stamps each part with the current time; use the document's date instead."""
    stamp = (when.year, when.month, when.day, 0, 0, 0)
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            archive.writestr(fixed, source.read(info.filename))
    return target.getvalue()
