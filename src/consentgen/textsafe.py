"""Text taken from input, made safe to print: on a terminal, in a CSV cell, in a GitHub annotation.

File names, YAML values, manifest fields and option values can hold control characters. Printed
raw, an ESC sequence can retitle or rewrite a terminal, a line break can forge a line of a report,
and a CSV cell starting with `=` is run as a formula by a spreadsheet. Every message and report
the CLI prints goes through one of these functions.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls, the Unicode line and paragraph separators, and the
# bidirectional overrides and isolates (which can make text read differently from what it is).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _shown(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: object, keep: str = "") -> str:
    """`text` with every control character written out as Python would (`\\x1b`, `\\n`), except
    those in `keep`; printable text, accents and other scripts are left as they are.

    Backslashes are not doubled: a message is shown to a person, not parsed, and text escaped
    once (e.g. with repr) stays the same when escaped again.
    """
    text = str(text)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _shown(m.group()), text)


def has_control(text: str, allowed: str = "") -> str | None:
    """The first control character of `text` (not in `allowed`), or None."""
    for match in _CONTROL.finditer(text):
        if match.group() not in allowed:
            return match.group()
    return None


# What no document may hold: DOCX and PDF refuse control characters, and on a terminal they act.
# Control characters but tab, the Unicode line separators, lone surrogates and noncharacters.
_OTHER_THAN_LINE_FEED = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(1, 17))
)
_NOT_TEXT = re.compile(f"[\n{_OTHER_THAN_LINE_FEED}]")
_NOT_YAML_TEXT = re.compile(f"[{_OTHER_THAN_LINE_FEED}]")  # a plain line feed is fine there


def not_text(text: str, *, line_feeds: bool = False) -> str | None:
    """What `text` holds that no document may, described without quoting the text (it may be a
    client's name), or None. A tab is fine; a plain line feed only with `line_feeds` (YAML text)."""
    if text.isprintable():  # each character refused here is one Unicode does not print
        return None  # (most text: a search with the patterns is ten times slower)
    found = (_NOT_YAML_TEXT if line_feeds else _NOT_TEXT).search(text)
    if found is not None:
        char = found.group()
        code = f"U+{ord(char):04X}"
        if char in "\n\r\u2028\u2029":
            plain = " other than a plain one" if line_feeds else ""
            return f"a line break{plain} ({code})"
        if char < "\x20" or "\x7f" <= char <= "\x9f":
            return f"a control character ({code})"
        return f"a character that is not text ({code})"
    return None


def made_text(text: str) -> str:
    """`text` with each character `not_text` refuses (line feeds included) replaced by U+FFFD."""
    return _NOT_TEXT.sub("\ufffd", text)


# A cell a spreadsheet would read as a formula starts with one of these (OWASP, CSV injection),
# or with their full-width forms, which some spreadsheets treat alike. Tab and carriage return,
# also on OWASP's list, never start a cell: `visible()` writes them as `\t` and `\r` first.
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula.

    The rule: control characters are shown as in `visible()`; a cell that then starts with `=`,
    `+`, `-` or `@` (or a full-width form of them) gets a leading apostrophe, which spreadsheets
    take as "this is text" and do not display, except a plain number (`-5`, `-2.5`, `12`) and a
    lone `-`, which no spreadsheet evaluates and which stay as they are.
    """
    text = "" if value is None else visible(value)
    if text.startswith(_FORMULA_START) and text != "-" and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def github_data(text: object) -> str:
    """The message of a GitHub Actions workflow command (`::error ...::message`): `%`, CR and LF
    escaped as the runner requires (a line break stays a line break in the annotation); other
    control characters shown as in `visible()`."""
    escaped = visible(text, keep="\r\n")
    return escaped.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: object) -> str:
    """A property value of a workflow command (`file=`, `title=`): as data, and `:` and `,`."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def json_text(data: object) -> str:
    """`data` as indented JSON (non-ASCII text kept readable) and a final newline, with no raw
    control character: json escapes C0 itself; DEL, C1, line separators and bidirectional
    controls, which it leaves raw and which can only be inside strings, become \\uXXXX."""
    import json

    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _CONTROL.sub(lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}",
                        text) + "\n"  # fmt: skip
