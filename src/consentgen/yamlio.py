"""YAML in, with every value's line:col kept, duplicate keys and aliases refused.

PyYAML silently keeps the last of two equal keys; in a jurisdiction file that would silently
replace a rule of law, so it is an error here.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentgen.errors import InvalidFileError, Problem
from consentgen.values import FrozenValue, frozen_value

if TYPE_CHECKING:
    import yaml

# PyYAML is imported on first use: a build whose jurisdiction files come from the cache and that
# has no profile never needs it.

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 50  # levels of mappings and lists: a profile or jurisdiction file needs about 6
KeyPath = tuple[str | int, ...]


@frozen_value(kw_only=False)
class Marked(FrozenValue):
    """A loaded YAML document and the (line, column) of every key path in it (1-based)."""

    data: Any
    marks: dict[KeyPath, tuple[int, int]]
    path: str
    value_marks: dict[KeyPath, tuple[int, int]] | None = None

    def mark(self, key_path: KeyPath) -> tuple[int, int]:
        """The mark of `key_path`, or of its nearest ancestor that has one."""
        while key_path not in self.marks and key_path:
            key_path = key_path[:-1]
        return self.marks.get(key_path, (1, 1))

    def problem(
        self, key_path: KeyPath, message: str, rule_id: str = "", *, at_value: bool = False
    ) -> Problem:
        values = self.value_marks or {}
        if at_value and key_path in values:
            line, col = values[key_path]
        else:
            line, col = self.mark(key_path)
        return Problem(self.path, line, col, "error", message, rule_id)


def _refused(display: str, message: str) -> InvalidFileError:
    return InvalidFileError([Problem(display, 0, 0, "error", message, "CG004")])


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a part of the path is a file, not a folder)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for the system (a name over 255 bytes, or the whole over 4096)"
    if exc.errno == errno.ELOOP:
        return "cannot be read (too many symbolic links)"
    return f"cannot be read ({exc.strerror or exc})"


def read_bytes(path: Path, display: str, limit: int = MAX_BYTES) -> bytes:
    """At most `limit` bytes of the regular file at `path`; InvalidFileError on anything else.

    Pipes, devices and sockets are refused, not read: /dev/zero never ends, and a FIFO with no
    writer would wait forever. The file is opened with O_NONBLOCK, so even opening such a FIFO
    returns at once, and it is checked on the open descriptor (fstat), not by name beforehand.
    The size is not trusted either: at most limit + 1 bytes are read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _refused(display, _os_problem(exc)) from None
    too_large = f"file is larger than {limit // 1024} KiB"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _refused(display, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise _refused(display, "is not a regular file (a pipe, device or socket); save "
                           "its content in a file and give that")  # fmt: skip
        if info.st_size > limit:
            raise _refused(display, too_large)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise _refused(display, _os_problem(exc)) from None
    finally:
        os.close(fd)
    if total > limit:
        raise _refused(display, too_large)
    return b"".join(chunks)


def read_text(path: Path, display: str) -> str:
    raw = read_bytes(path, display)
    if b"\x00" in raw:
        raise _refused(display, "is a binary file, not YAML")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidFileError(
            [Problem(display, line, 1, "error", "is not UTF-8 text; save it as UTF-8", "CG004")]
        ) from None


def load_file(path: Path, display: str | None = None) -> Marked:
    display = display or str(path)
    return load_text(read_text(path, display), display)


class _Invalid:
    """A value that could not be read; its problem is already reported."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


def load_text(text: str, display: str) -> Marked:
    marked, problems = load_text_lenient(text, display)
    if problems:
        raise InvalidFileError(problems)
    return marked


def load_text_lenient(text: str, display: str) -> tuple[Marked, list[Problem]]:
    """Like load_text, but a value that cannot be read becomes INVALID and is reported, so a
    linter can go on to check the rest of the file. Syntax errors still raise."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = exc.problem or "not valid YAML"
        if mark and _tab_at(text, mark.line, mark.column):
            reason = f"tab character at line {line}: indent with spaces"
        raise InvalidFileError(
            [Problem(display, line, col, "error", f"YAML syntax: {reason}", "CG001")]
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidFileError([Problem(display, 0, 0, "error", f"YAML: {exc}", "CG001")]) from None
    except RecursionError:  # the pure-Python composer, without libyaml
        message = f"YAML nested more than {MAX_DEPTH} levels deep"
        raise InvalidFileError([Problem(display, 0, 0, "error", message, "CG001")]) from None
    finally:
        loader.dispose()
    if node is None:
        return Marked(None, {(): (1, 1)}, display), []
    converter = _Converter(display)
    data = converter.convert(node)
    return Marked(data, converter.marks, display, converter.value_marks), converter.problems


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the syntax error YAML reports at (line, column), 0-based, is a tab in the
    indentation: YAML allows only spaces there, and says "found character that cannot start any
    token" or "found a tab character that violates indentation". A tab inside a value is fine."""
    lines = text.splitlines()
    if line >= len(lines):
        return False
    indent = lines[line][: column + 1]
    return "\t" in indent and not indent.replace("-", " ").replace("\t", " ").strip()


class _Converter:
    """Turns a composed node tree into plain data, recording every key path's mark and every
    problem; one per file, so the scalar constructor and the bookkeeping are made once."""

    def __init__(self, display: str) -> None:
        import yaml

        self.yaml = yaml
        self.constructor = yaml.constructor.SafeConstructor()
        self.display = display
        self.marks: dict[KeyPath, tuple[int, int]] = {}
        self.value_marks: dict[KeyPath, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def error(self, line: int, col: int, message: str, rule_id: str) -> None:
        self.problems.append(Problem(self.display, line, col, "error", message, rule_id))

    def convert(self, node: yaml.Node, path: KeyPath = ()) -> Any:
        yaml = self.yaml
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        if id(node) in self.seen:
            # An alias: the node is the anchored one, so report where it is used (its key).
            aline, acol = self.marks.get(path, (line, col))
            self.error(aline, acol, "anchors and aliases (& and *) are not allowed; write the "
                       "value out", "CG003")  # fmt: skip
            return INVALID
        if len(path) > MAX_DEPTH:  # no file of consentgen's nests deeper than a few levels
            self.error(line, col, f"nested more than {MAX_DEPTH} levels deep", "CG001")
            return INVALID
        self.marks.setdefault(path, (line, col))
        self.value_marks[path] = (line, col)
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            detail = getattr(exc, "problem", None) or str(exc)
            if node.tag == "tag:yaml.org,2002:timestamp":
                detail = f"'{node.value}' is not a real date (use YYYY-MM-DD)"
            elif node.tag == "tag:yaml.org,2002:int":  # past Python's 4300-digit limit
                detail = f"the number is too long ({len(node.value)} characters)"
            self.error(line, col, detail, "CG104")
            return INVALID

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            kline, kcol = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(kline, kcol, "merge keys (<<) are not allowed; write the keys out",
                           "CG003")  # fmt: skip
                continue
            if not isinstance(key_node, self.yaml.ScalarNode):
                self.error(kline, kcol, "a key must be a plain word", "CG001")
                continue
            key = key_node.value
            if key in result:
                first = self.marks.get((*path, key), (0, 0))
                self.error(kline, kcol, f"duplicate key '{key}' (first at line {first[0]}); "
                           "keep one", "CG002")  # fmt: skip
                continue
            self.marks[(*path, key)] = (kline, kcol)
            result[key] = self.convert(value_node, (*path, key))
        return result


def is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
