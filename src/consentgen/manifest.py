"""A batch folder's manifest (DIR/manifest.json) and its journal (DIR/.manifest.journal).

The manifest lists every document of a batch: its file, checksum, the law and options it was
built from, a keyed checksum of its row (for --resume) and a checksum of each section's text
(for `recheck`). Most documents share most sections' text, so the file holds each distinct
(section, checksum) pair once, in `sections`, and each document lists indexes into it:

    {"format": 2,
     "sections": [["key_facts", "<sha256>"], ...],
     "documents": [
    {"id": "r1", "file": "r1_CA_individual.md", ..., "sections": [0, 7, 12, ...]},
    ...]}

Each document is one line, so the file is about 0.6 kB a document, and it is written piece by
piece. Manifests of format 1 (each document's `sections` a mapping of id to checksum) are read
as they are. In memory a Manifest keeps the same shape: one table of pairs, and per document a
tuple of indexes, with the strings every document repeats (data version, profile checksum,
options) shared, so that a batch of 100,000 documents fits in tens of megabytes.

The journal is one JSON line per document, appended and fsynced before the document takes its
name; a run folds it into the manifest, reading it line by line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from consentgen.errors import UserError
from consentgen.files import write_atomic

MANIFEST = "manifest.json"
JOURNAL = ".manifest.journal"
FORMAT = 2
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Fields every document of a batch shares with many others: one string object for all of them.
_SHARED = ("data_version", "state", "setting", "as_of", "consentgen_version", "practice_sha256")
# An entry's fields in the order a compact entry (a tuple) holds them.
FIELDS = ("id", "file", "sha256", "data_version", "state", "setting", "options", "as_of",
          "consentgen_version", "sections", "practice_sha256", "inputs_hmac")  # fmt: skip
_ABSENT = None  # a field an entry lacks (an older consentgen's); no field's value is None


def plain_file_name(name: Any) -> bool:
    return (isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name
            and "\0" not in name and not name.startswith("."))  # fmt: skip


def valid_entry(entry: Any) -> bool:
    """The fields a batch relies on (file, id, checksum) are there and of the right form."""
    return (
        isinstance(entry, dict)
        and plain_file_name(entry.get("file"))
        and isinstance(entry.get("id"), str)
        and isinstance(entry.get("sha256"), str)
        and _HEX64.fullmatch(entry["sha256"]) is not None
        and isinstance(entry.get("inputs_hmac", ""), str)
    )


class Manifest:
    """The documents of a batch folder by file. Each is kept as a tuple of FIELDS (a dict only
    for an entry with other fields), its sections as indexes into one shared table of (section
    id, checksum) pairs, and what many documents share (strings, options, section lists) as one
    object: about half a kilobyte a document."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, ...] | dict[str, Any]] = {}
        self._pairs: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        self._shared: dict[Any, Any] = {}

    def checksums(self, name: str) -> tuple[str | None, str | None]:
        """(sha256 of the file, inputs_hmac) as recorded for `name`; None for what is not."""
        entry = self._entries.get(name)
        if entry is None:
            return None, None
        if isinstance(entry, tuple):
            return entry[2], entry[11]
        return entry.get("sha256"), entry.get("inputs_hmac")

    def get(self, name: str) -> dict[str, Any] | None:
        """The document's entry as a batch wrote it (sections as a mapping), or None."""
        entry = self._entries.get(name)
        return None if entry is None else self.expand(entry)

    def expand(self, entry: tuple[Any, ...] | dict[str, Any]) -> dict[str, Any]:
        if isinstance(entry, dict):
            return dict(entry)
        out = {key: value for key, value in zip(FIELDS, entry, strict=True) if value is not _ABSENT}
        if isinstance(out.get("sections"), tuple):
            out["sections"] = dict(self._pairs[i] for i in out["sections"])
        if isinstance(out.get("options"), dict):
            out["options"] = dict(out["options"])
        return out

    def add(self, entry: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """Record a document (its entry as a worker made it, or as read); returns the compact
        form kept, which `expand` turns back."""
        sections = entry.get("sections")
        simple = (
            set(entry) <= set(FIELDS)
            and all(entry.get(k) is not None for k in entry)
            and (sections is None or (isinstance(sections, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in sections.items())))
        )  # fmt: skip
        if not simple:  # kept as it is (another program's fields, or odd values)
            self._entries[entry["file"]] = dict(entry)
            return self._entries[entry["file"]]
        values = []
        for key in FIELDS:
            value = entry.get(key, _ABSENT)
            if key in _SHARED and isinstance(value, str):
                value = self._share(value)
            elif key == "options" and isinstance(value, dict):
                value = self._share(("options", json.dumps(value, sort_keys=True)), value)
            elif key == "sections" and isinstance(value, dict):
                refs = tuple(self._ref(k, v) for k, v in value.items())
                value = self._share(refs)
            values.append(value)
        compact = tuple(values)
        self._entries[entry["file"]] = compact
        return compact

    def _share(self, key: Any, value: Any = None) -> Any:
        return self._shared.setdefault(key, key if value is None else value)

    def _ref(self, section: str, checksum: str) -> int:
        pair = (sys.intern(section), checksum)
        index = self._index.get(pair)
        if index is None:
            index = self._index[pair] = len(self._pairs)
            self._pairs.append(pair)
        return index

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every document's entry (sections as a mapping), made one at a time."""
        for entry in self._entries.values():
            yield self.expand(entry)

    def write(self, out: Path) -> None:
        """DIR/manifest.json anew (format 2), sorted by id then file, written piece by piece and
        put in place atomically."""
        write_atomic(out / MANIFEST, self._chunks())

    def _chunks(self) -> Iterator[bytes]:
        def order(entry: tuple[Any, ...] | dict[str, Any]) -> tuple[str, str]:
            return (
                (entry[0], entry[1]) if isinstance(entry, tuple) else (entry["id"], entry["file"])
            )

        documents = sorted(self._entries.values(), key=order)
        used: dict[int, int] = {}  # index in the table -> index in this file (pairs still used)
        for entry in documents:
            sections = entry[9] if isinstance(entry, tuple) else None
            if isinstance(sections, tuple):
                for i in sections:
                    used.setdefault(i, len(used))
        table = [list(self._pairs[i]) for i in used]
        head = json.dumps({"format": FORMAT, "sections": table}, ensure_ascii=False)
        yield (head[:-1] + ', "documents": [').encode("utf-8")
        separator = "\n"
        for entry in documents:
            if isinstance(entry, tuple):
                plain = {k: v for k, v in zip(FIELDS, entry, strict=True) if v is not _ABSENT}
                if isinstance(plain.get("sections"), tuple):
                    plain["sections"] = [used[i] for i in plain["sections"]]
            else:
                plain = entry
            line = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
            yield (separator + line).encode("utf-8")
            separator = ",\n"
        yield b"\n]}\n"


class Written(Sequence[dict[str, Any]]):
    """The entries a run wrote, as a list of dicts (sections as a mapping), made on demand from
    the manifest's compact ones."""

    def __init__(self, manifest: Manifest | None = None) -> None:
        self._manifest = manifest or Manifest()
        self._compact: list[tuple[Any, ...] | dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        self._compact.append(self._manifest.add(entry))

    def extend(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            self.append(entry)

    def __len__(self) -> int:
        return len(self._compact)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._manifest.expand(e) for e in self._compact[index]]
        return self._manifest.expand(self._compact[index])

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, list | Written) else NotImplemented

    def __repr__(self) -> str:
        return f"Written({len(self)} entries)"


def read(out: Path) -> Manifest:
    """DIR/manifest.json (format 1 or 2); one clean UserError for anything not shaped like one."""
    path = out / MANIFEST
    manifest = Manifest()
    if not os.path.lexists(path):
        return manifest
    broken = UserError(f"{path} is not a consentgen manifest; move it away or fix it")
    if path.is_symlink() or not path.is_file():
        raise broken
    try:
        for entry in _documents_in(path):
            if not valid_entry(entry):
                raise broken
            manifest.add(entry)
    except OSError as exc:
        raise UserError(f"{path} cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise broken from None
    return manifest


def _documents_in(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of the manifest at `path`, one at a time: a file as `Manifest.write` lays it
    out (the table on the first line, then one document a line) is read line by line; any other
    valid JSON of the same shape (format 1, or a file someone reformatted) whole."""
    with open(path, "rb") as fh:
        head = fh.readline()
        prefix = b', "documents": [\n'
        if head.startswith(b'{"format": 2') and head.endswith(prefix):
            table = json.loads(head[: -len(prefix)].decode("utf-8") + ', "documents": []}')
            lines = []
            for line in fh:
                stripped = line.rstrip(b"\n").removesuffix(b",")
                if stripped == b"]}":
                    if fh.read().strip():
                        raise ValueError("text after the manifest")
                    break
                lines.append(stripped)
                if len(lines) == 1024:
                    yield from documents_of({**table, "documents": [json.loads(x) for x in lines]})
                    lines = []
            else:
                raise ValueError("the manifest ends early")
            yield from documents_of({**table, "documents": [json.loads(x) for x in lines]})
            return
        fh.seek(0)
        yield from documents_of(json.loads(fh.read().decode("utf-8")))


def documents_of(data: Any) -> Iterator[dict[str, Any]]:
    """The documents of a parsed manifest, each with its sections as a mapping (format 2's
    indexes resolved); ValueError for a file not shaped like a manifest."""
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise ValueError("not a manifest")
    table = data.get("sections", [])
    if data.get("format", 1) not in (1, FORMAT) or not isinstance(table, list):
        raise ValueError("not a manifest")
    if data.get("format", 1) == 1:
        yield from data["documents"]
        return
    pairs = []
    for pair in table:
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(x, str) for x in pair)):  # fmt: skip
            raise ValueError("not a manifest")
        pairs.append((pair[0], pair[1]))
    for entry in data["documents"]:
        refs = entry.get("sections") if isinstance(entry, dict) else None
        if isinstance(refs, list):
            if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(pairs)
                       for i in refs):  # fmt: skip
                raise ValueError("not a manifest")
            entry = {**entry, "sections": dict(pairs[i] for i in refs)}
        yield entry


class Journal:
    """DIR/.manifest.journal, to append each document's entry to, on disk before the document
    takes its name: opened once for many entries (a chunk of a batch's rows) and closed on
    leaving the `with`; each entry is written in one write, and fsynced on its own unless the
    caller makes it durable with its documents (files.make_durable, also=journal.open_fds)."""

    def __init__(self, out: Path) -> None:
        self.path = out / JOURNAL
        self.fd: int | None = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @property
    def open_fds(self) -> tuple[int, ...]:
        return () if self.fd is None else (self.fd,)

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        line = json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            if self.fd is None:
                self.fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
            os.write(self.fd, line.encode("ascii"))  # append mode: two processes never mix
            if sync:
                os.fsync(self.fd)
        except OSError as exc:
            reason = exc.strerror or exc
            raise UserError(f"could not record {entry['file']} in {self.path}: {reason}; the "
                            "document was not written") from None  # fmt: skip


def journal_entries(out: Path) -> Iterator[dict[str, Any]]:
    """The journal's valid entries, read line by line (a line cut short by a crash is skipped)."""
    path = out / JOURNAL
    try:
        if path.is_symlink():
            return
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after the last line
    except OSError:
        return
    with fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if valid_entry(entry):
                yield entry


def drop_journal(out: Path) -> None:
    (out / JOURNAL).unlink(missing_ok=True)
