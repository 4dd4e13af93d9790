"""Plain text from the document's Markdown, for email bodies and EHR note fields."""

from __future__ import annotations

import re
import textwrap

from markdown_it.token import Token

from consentgen.rendering.html import markdown_parser

WIDTH = 78
# Control characters (but tab and line feed) from a profile or a template are shown as U+FFFD,
# as in DOCX: a text file is often printed to a terminal. Names never hold any (model.Request).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _CONTROL.sub("\ufffd", "".join(parts))


def to_text(markdown: str) -> str:
    tokens = markdown_parser().parse(markdown)
    out: list[str] = []
    prefix_stack: list[str] = []
    heading_level = 0
    for token in tokens:
        if token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "bullet_list_open":
            prefix_stack.append("- ")
        elif token.type == "bullet_list_close":
            prefix_stack.pop()
            out.append("")
        elif token.type == "blockquote_open":
            prefix_stack.append("| ")
        elif token.type == "blockquote_close":
            prefix_stack.pop()
        elif token.type == "hr":
            out.extend(["-" * WIDTH, ""])
        elif token.type == "inline":
            text = _inline_text(token)
            if heading_level:
                rule = "=" if heading_level == 1 else "-"
                out.extend([text, rule * len(text), ""])
                heading_level = 0
                continue
            lead = prefix_stack[-1] if prefix_stack else ""
            indent = " " * len(lead) if lead == "- " else lead
            wrapped = textwrap.wrap(text, WIDTH - len(lead), break_on_hyphens=False) or [""]
            out.append(lead + wrapped[0])
            out.extend(indent + line for line in wrapped[1:])
            if not prefix_stack or prefix_stack[-1] != "- ":
                out.append("")
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"
