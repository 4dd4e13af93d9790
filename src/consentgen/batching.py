"""Many documents at once, from a CSV or JSON Lines export of a scheduling system.

One document per row and format, named from the row's id, state and setting (never from a
client's name), written atomically and readable by their owner only, in parallel processes, and
recorded in DIR/manifest.json (no client names there either). A bad row is reported by its line,
id and column, never with the value of a field (a misaligned row may put a name anywhere); the
other rows still produce their documents.

One batch at a time writes to a folder (a lock on DIR/.consentgen.lock). Each document is
recorded in DIR/.manifest.journal (one JSON line), and it and its line are on disk, before it
takes its name (a chunk of rows is made durable with one sync), so after a crash or a kill the
next run folds the journal into manifest.json and --resume finishes the job.
The manifest keeps, for each document, a keyed checksum of the row it came from (HMAC-SHA256 with
the folder's own random key, DIR/.consentgen.key): --resume rebuilds nothing whose row changed,
and reports it, and the manifest alone does not let anyone test guessed names against it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import errno
import functools
import hashlib
import hmac
import io
import itertools
import json
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from consentgen import jurisdictions
from consentgen.errors import ConsentgenError, UserError
from consentgen.files import (
    AlreadyExists,
    Staged,
    make_durable,
    remove_stale_temporary_files,
    stage,
    write_atomic,
)
from consentgen.manifest import (
    Journal,
    Manifest,
    Written,
    drop_journal,
    journal_entries,
)
from consentgen.manifest import read as read_manifest
from consentgen.model import (
    GUARDIAN_SETTINGS,
    Payment,
    PracticeProfile,
    Profession,
    Request,
    Setting,
)
from consentgen.profile import profile_hash
from consentgen.resources import SearchPath, files_fingerprint
from consentgen.textsafe import visible
from consentgen.values import FrozenValue, frozen_value
from consentgen.version import __version__

SETTINGS: tuple[str, ...] = get_args(Setting)
PAYMENTS: tuple[str, ...] = get_args(Payment)
PROFESSIONS: tuple[str, ...] = get_args(Profession)

REQUIRED = ("id", "state", "setting", "clients")
OPTIONAL = ("payment", "supervisee", "telehealth", "guardian", "profession", "as_of")
NAME_COLUMNS = ("clients", "guardian")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
LOCK = ".consentgen.lock"
KEY = ".consentgen.key"
MAX_JOBS = 32
MAX_INPUT = 256 << 20  # bytes of CSV or JSON Lines: about two million rows


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # where the row starts in the input file (1-based)
    id: str
    request: Request
    explicit_date: bool = False  # the row gave as_of


@dataclass(frozen=True, slots=True)
class Failure:
    line: int
    id: str
    message: str  # never holds a client's name, nor any other field's value

    def __str__(self) -> str:
        who = f"id {self.id}: " if self.id else ""
        return f"{self.line}: {who}{self.message}"


@frozen_value(kw_only=False)
class Rebuild(FrozenValue):
    """`recheck --rebuild`: new documents for the rows `ids` only, all dated `as_of` whatever the
    rows say, named with the date (r1_CA_individual.2027-01-05.md) beside the old ones."""

    ids: frozenset[str]
    as_of: dt.date

    @property
    def suffix(self) -> str:
        return f".{self.as_of.isoformat()}"


@dataclass
class Result:
    written: Written = field(default_factory=Written)  # manifest entries, made on demand
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings to show once (e.g. jobs capped)


# --- Reading the input ----------------------------------------------------------------------


def read_rows(path: Path) -> tuple[list[Row], list[Failure], list[str]]:
    """Rows, failures (bad rows) and unknown column names; UserError if the file is unusable."""
    raw = _read_input(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text; export it as UTF-8 CSV") from None
    # Records are made one at a time and turned into rows as they come, so a large file never
    # holds every record and every row at once.
    failures: list[Failure] = []
    if path.suffix.lower() in (".jsonl", ".ndjson") or text.lstrip().startswith("{"):
        keys: set[str] = set()

        def records() -> Iterator[tuple[int, dict[str, Any]]]:
            for number, record in _jsonl_records(text, failures):
                keys.update(record)
                yield number, record

        rows, more = _checked_rows(records())
        columns = sorted(keys)
    else:
        columns, found = _csv_records(path, text, failures)
        rows, more = _checked_rows(found)
    unknown = [_shown(c) for c in columns if c not in REQUIRED + OPTIONAL]
    return rows, failures + more, unknown


def _read_input(path: Path) -> bytes:
    """The file's bytes: a regular file or a pipe (`<(...)`), of at most MAX_INPUT bytes."""
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise UserError(f"{path}: not a file (a device or a folder); give a CSV or "
                                "JSON Lines file")  # fmt: skip
            raw = fh.read(MAX_INPUT + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_INPUT:
        raise UserError(f"{path}: larger than {MAX_INPUT >> 20} MiB; split it into several "
                        "batches")  # fmt: skip
    return raw


def _checked_rows(
    records: Iterable[tuple[int, dict[str, Any]]],
) -> tuple[list[Row], list[Failure]]:
    rows: list[Row] = []
    failures: list[Failure] = []
    seen: set[str] = set()
    for line, record in records:
        try:
            row = _row(line, record)
        except ValueError as exc:
            failures.append(Failure(line, _safe_id(record.get("id")), str(exc)))
            continue
        if row.id in seen:
            failures.append(Failure(line, row.id, "this id is used by an earlier row"))
            continue
        seen.add(row.id)
        rows.append(row)
    return rows, failures


def _shown(column: str) -> str:
    """A column name as it may be printed: never a control character, never very long."""
    text = column if column.isprintable() else column.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."


def _csv_records(
    path: Path, text: str, failures: list[Failure]
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header of a CSV file (UserError for an unusable one), and its records one at a time
    (a bad record goes to `failures`). A field may not span lines: a record with a line break
    in a field (an unbalanced quote swallows the rows after it) fails, and the reading starts
    again on the line after the one it started on, so no other row is lost."""
    lines = io.StringIO(text, newline="").readlines()  # as csv splits them
    delimiter = _delimiter(lines[0] if lines else "")
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        found = next(reader)
    except StopIteration:
        raise UserError(f"{path}: empty file; the first line must name the columns") from None
    except csv.Error as exc:
        raise UserError(f"{path}:1: not valid CSV ({exc})") from None
    header = _header(path, found, delimiter)
    return header, _csv_body(lines, reader.line_num, header, delimiter, failures)


def _csv_body(
    lines: list[str], first: int, header: list[str], delimiter: str, failures: list[Failure]
) -> Iterator[tuple[int, dict[str, Any]]]:
    start: int | None = first  # index of the first line still to read
    while start is not None and start < len(lines):
        reader = csv.reader(iter(lines[start:]), delimiter=delimiter)
        done, restart = 0, None
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # e.g. a field over the size limit
                failures.append(Failure(start + done + 1, "", f"not valid CSV ({exc})"))
                if reader.line_num - done > 1:  # it swallowed lines: read them again
                    restart = start + done + 1
                    break
                done = reader.line_num
                continue
            line = start + done + 1
            spans = reader.line_num - done > 1
            done = reader.line_num
            if not any(v.strip() for v in values):
                continue
            record = dict(zip(header, values, strict=False))
            broken = next((i for i, v in enumerate(values) if "\n" in v or "\r" in v), None)
            if broken is not None:
                column = (f"column '{_shown(header[broken])}'" if broken < len(header)
                          else f"field {broken + 1}")  # fmt: skip
                failures.append(Failure(line, _safe_id(record.get("id")),
                                        f"{column} runs over a line break (an unbalanced "
                                        "quote?); a field may not span lines"))  # fmt: skip
                if spans:
                    restart = line  # the line after the one this record started on
                    break
                continue
            if len(values) > len(header):
                failures.append(Failure(line, _safe_id(record.get("id")),
                                        f"{len(values)} fields but the header names "
                                        f"{len(header)}"))  # fmt: skip
            else:
                yield line, record
        start = restart


# Excel writes CSV with the list separator of the system's locale: a semicolon where the decimal
# mark is a comma (most of Europe and Latin America); "Unicode text" exports use tabs.
_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _delimiter(first_line: str) -> str:
    """The delimiter the header line uses most (column names hold none), a comma by default."""
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.__getitem__)  # on a tie, the first: a comma
    return best if counts[best] else ","


def _column(name: str) -> str:
    """A header cell as a column name: `ID`, ` Clients ` and `As Of` are id, clients and as_of;
    a name consentgen does not know is kept as it is (without surrounding spaces)."""
    key = re.sub(r"[\s_-]+", "_", name.strip().lower())
    return key if key in REQUIRED + OPTIONAL else name.strip()


def _header(path: Path, found: list[str], delimiter: str) -> list[str]:
    header = [_column(name) for name in found]
    known = [name for name in header if name in REQUIRED + OPTIONAL]
    twice = sorted({name for name in known if known.count(name) > 1})
    if twice:
        raise UserError(f"{path}:1: more than one column is named {', '.join(twice)} (names are "
                        "compared without regard to case and spaces); keep one")  # fmt: skip
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        names = [_shown(visible(name.strip())) for name in found if name.strip()]
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; the header needs "
                        f"{', '.join(REQUIRED)}; found: {shown or 'no names'} (separated by "
                        f"{_DELIMITERS[delimiter]})")  # fmt: skip
    return header


def _jsonl_records(text: str, failures: list[Failure]) -> Iterator[tuple[int, dict[str, Any]]]:
    # JSON text holds no raw line feed, but may hold U+2028 and the like: split on \n only.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(Failure(number, "", f"not valid JSON ({exc.msg})"))
            continue
        except RecursionError:
            failures.append(Failure(number, "", "not valid JSON (nested too deeply)"))
            continue
        except ValueError:  # e.g. an integer of more than 4,300 digits
            failures.append(Failure(number, "", "not valid JSON (a number with too many digits)"))
            continue
        if not isinstance(record, dict):
            failures.append(Failure(number, "", "each line must be a JSON object"))
            continue
        try:
            plain = _plain_record(record)
        except ValueError as exc:
            failures.append(Failure(number, _safe_id(record.get("id")), str(exc)))
            continue
        yield number, plain


def _plain_record(record: dict[Any, Any]) -> dict[str, Any]:
    """A JSON object's or a dict's known columns as text; ValueError naming the column."""
    plain: dict[str, Any] = {}
    for key, value in record.items():
        if not isinstance(key, str):
            continue
        plain[key] = _jsonl_value(key, value) if key in REQUIRED + OPTIONAL else ""
    return plain


def _jsonl_value(key: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        return ";".join(_scalar(key, v, "a list of texts") for v in value)
    return _scalar(key, value, "a list of texts" if key in NAME_COLUMNS else "")


def _scalar(key: str, value: Any, alternative: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:
            raise ValueError(f"column '{key}' holds a number with too many digits") from None
    either = f" or {alternative}" if alternative else ""
    raise ValueError(f"column '{key}' must be text{either}")


def _safe_id(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = value.strip()
    return text if _ID.fullmatch(text) else ""


def _row(line: int, record: dict[str, Any]) -> Row:
    """A Row, or ValueError naming the column: never a field's value."""

    def text(key: str) -> str:
        value = record.get(key)
        return "" if value is None else str(value).strip()

    for key in REQUIRED:
        if not text(key):
            raise ValueError(f"column '{key}' is empty; every row needs {', '.join(REQUIRED)}")
    row_id = text("id")
    if not _ID.fullmatch(row_id):
        raise ValueError("the id may hold only letters, digits, '.', '_' and '-' (at most 100), "
                         "because it names the document's file")  # fmt: skip
    setting = text("setting").lower()
    if setting not in SETTINGS:
        raise ValueError(f"column 'setting' is not one of {', '.join(SETTINGS)}")
    payment = text("payment").lower() or "insurance"
    if payment not in PAYMENTS:
        raise ValueError(f"column 'payment' is not one of {', '.join(PAYMENTS)}")
    profession = text("profession").lower() or None
    if profession is not None and profession not in PROFESSIONS:
        raise ValueError(f"column 'profession' is not one of {', '.join(PROFESSIONS)}")
    as_of = None
    if text("as_of"):
        try:
            as_of = dt.date.fromisoformat(text("as_of"))
        except ValueError:
            raise ValueError("column 'as_of' is not a date (YYYY-MM-DD)") from None
    guardians = _names(text("guardian"), "guardian")
    if guardians and setting not in GUARDIAN_SETTINGS:
        raise ValueError("a guardian is only for the minor, family and group settings")
    clients = _names(text("clients"), "clients")
    request = Request(state=text("state"), setting=setting, payment=payment,
                      supervisee=_yes_no(text("supervisee"), "supervisee"),
                      telehealth=_yes_no(text("telehealth"), "telehealth"),
                      profession=profession, clients=clients, guardians=guardians,
                      as_of=as_of)  # fmt: skip
    return Row(line, row_id, request, explicit_date=as_of is not None)


def _names(value: str, column: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(";") if name.strip())
    for number, name in enumerate(names, 1):
        problem = Request.name_problem(name)
        if problem:
            raise ValueError(f"column '{column}': name {number} holds {problem}; remove it")
    return names


def _yes_no(value: str, key: str) -> bool:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError(f"column '{key}' must be yes or no (or true/false, y/n, 1/0)")


# --- Writing the documents --------------------------------------------------------------------


def file_name(row_id: str, state: str, setting: str, fmt: str, suffix: str = "") -> str:
    return f"{row_id}_{state.upper()}_{setting}{suffix}.{fmt}"


def run(
    source: Path | Iterable[dict[str, Any]],
    out_dir: Path,
    *,
    practice: Path | PracticeProfile | None = None,
    formats: tuple[str, ...] = ("md",),
    jobs: int | None = None,
    force: bool = False,
    resume: bool = False,
    data_dirs: tuple[Path, ...] = (),
    default_as_of: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    strict: bool = False,
    rebuild: Rebuild | None = None,
) -> Result:
    """Build every row's documents into `out_dir`; see the module's docstring. `strict`: when
    any row's document has statements of law neither verified nor reviewed (review.py), those
    rows fail and nothing at all is written. `rebuild`: `recheck --rebuild`'s new documents for
    some rows, beside the old ones."""
    only_ids = set(rebuild.ids) if rebuild is not None else None
    name_suffix = rebuild.suffix if rebuild is not None else ""
    as_of_over_rows = rebuild is not None
    if rebuild is not None:
        default_as_of = rebuild.as_of
    from consentgen.engine import FORMATS, load_profile

    for fmt in formats:
        if fmt not in FORMATS:
            raise UserError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    if isinstance(source, Path):
        rows, failures, unknown = read_rows(source)
    else:
        rows, failures, unknown = _rows_from_dicts(source)
    profile = load_profile(practice)
    _check_extras(formats)
    result = Result(failed=list(failures), unknown_columns=unknown)
    result.notes.extend(_comma_notes(rows, only_ids))
    if strict:
        held = _unreviewed(rows, profile, practice, data_dirs, default_as_of, only_ids,
                           as_of_over_rows)  # fmt: skip
        if held:
            result.failed.extend(held)
            result.failed.sort(key=lambda f: f.line)
            result.notes.append(f"--strict: {len(held)} row(s) have statements of law neither "
                                "verified nor reviewed (see `consentgen review`); nothing was "
                                "written")  # fmt: skip
            return result
    jobs = _jobs(jobs, result)
    out = _prepare(out_dir)
    with _locked(out, result):
        remove_stale_temporary_files(out)
        manifest = read_manifest(out)
        result.written = Written(manifest)  # what this run writes goes into the manifest
        if _fold_journal(out, manifest):  # what a run that crashed or was killed wrote
            manifest.write(out)
            drop_journal(out)
        key = _folder_key(out)
        pool = _workers(jobs, data_dirs) if jobs > 1 and len(rows) >= 8 else None
        try:
            _build_into(out, _drain(rows), profile, formats, jobs, force, resume, data_dirs,
                        default_as_of, progress, only_ids, name_suffix, as_of_over_rows,
                        manifest, key, result, pool)  # fmt: skip
        except BaseException:  # interrupted: record what was written, as far as it goes
            with contextlib.suppress(Exception):
                _fold_journal(out, manifest)
                manifest.write(out)
                drop_journal(out)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        _fold_journal(out, manifest)
        manifest.write(out)
        drop_journal(out)
    result.failed.sort(key=lambda f: f.line)
    return result


def _unreviewed(
    rows: list[Row], profile: PracticeProfile, practice: Path | PracticeProfile | None,
    data_dirs: tuple[Path, ...], default_as_of: dt.date | None, only_ids: set[str] | None,
    as_of_over_rows: bool,
) -> list[Failure]:  # fmt: skip
    """For --strict: a failure for each row whose document would hold statements of law neither
    verified nor reviewed (and for each row whose state is unknown), before anything is written."""
    from consentgen import compose, review

    search = SearchPath.make(data_dirs)
    review.check_reviews(profile, practice if isinstance(practice, Path) else None, search)
    as_of = default_as_of or dt.date.today()
    failures = []
    for row in rows:
        if only_ids is not None and row.id not in only_ids:
            continue
        try:
            code = jurisdictions.normalize_code(row.request.state, search)
        except UserError as exc:
            failures.append(Failure(row.line, row.id, _state_message(exc)))
            continue
        row_date = None if as_of_over_rows else row.request.as_of
        request = dataclasses.replace(row.request, state=code, as_of=row_date or as_of)
        law = resolved_law(code, request.as_of, data_dirs)[0]
        pending = review.build_sheet(compose.plan(request, law, profile), profile).pending
        if pending:
            failures.append(Failure(row.line, row.id, f"{len(pending)} statement(s) of law are "
                                    "neither verified nor reviewed (--strict)"))  # fmt: skip
    return failures


def _comma_notes(rows: list[Row], only_ids: set[str] | None) -> list[str]:
    """A warning for each row of several participants whose clients field holds a single name
    with a comma: most likely two names joined by a comma, which would print as one person. It
    names the row's line and id, never the names."""
    notes = []
    for row in rows:
        clients = row.request.clients
        if (row.request.setting in ("couples", "family", "group") and len(clients) == 1
                and "," in clients[0] and (only_ids is None or row.id in only_ids)):  # fmt: skip
            notes.append(f"line {row.line}, id {row.id}: the clients field of this "
                         f"{row.request.setting} row holds one name with a comma; if it is "
                         "several people, separate their names with ';'")  # fmt: skip
    return notes


def _drain(items: list[Any]) -> Iterator[Any]:
    """The items of `items` in order, each let go of as it is taken (the list ends empty), so a
    batch does not hold every row, or every row's task, until its end."""
    items.reverse()
    while items:
        yield items.pop()


def _build_into(
    out: Path, rows: Iterable[Row], profile: PracticeProfile, formats: tuple[str, ...], jobs: int,
    force: bool, resume: bool, data_dirs: tuple[Path, ...], default_as_of: dt.date | None,
    progress: Callable[[int, int], None] | None, only_ids: set[str] | None, name_suffix: str,
    as_of_over_rows: bool, manifest: Manifest, key: bytes, result: Result,
    pool: ProcessPoolExecutor | None = None,
) -> None:  # fmt: skip
    as_of = default_as_of or dt.date.today()
    search = SearchPath.make(data_dirs)
    practice_sha256 = profile_hash(profile)
    # One pass decides what to write; the documents are then built from it a chunk at a time,
    # each row's request made only when its chunk goes to a worker, so that memory does not grow
    # with copies of every row.
    todo: list[Pending] = []
    codes: dict[str, str] = {}  # as given -> the state's code (the folder is listed once a name)
    try:  # one listing instead of two stat calls a row (a file named later is caught on writing)
        present: frozenset[str] | None = frozenset(map(_folded, os.listdir(out)))
    except OSError:
        present = None
    for row in rows:
        if only_ids is not None and row.id not in only_ids:
            continue
        code = codes.get(row.request.state)
        if code is None:
            try:  # the state's code names the file, so it is settled before anything is written
                code = codes[row.request.state] = jurisdictions.normalize_code(
                    row.request.state, search
                )
            except UserError as exc:
                result.failed.append(Failure(row.line, row.id, _state_message(exc)))
                continue
        row_date = None if as_of_over_rows else row.request.as_of
        when = row_date or as_of
        request = dataclasses.replace(row.request, state=code, as_of=when)
        explicit = default_as_of is not None or (row.explicit_date and not as_of_over_rows)
        inputs = _inputs_hmac(key, row.id, request, explicit, practice_sha256, name_suffix)
        formats_left = _formats_to_write(row, code, formats, inputs, out, manifest, force,
                                         resume, name_suffix, result, present)  # fmt: skip
        if formats_left:
            todo.append((row, formats_left, inputs, code, when))

    # The rows of one state and date go together (in their order): a worker then loads the law
    # and renders the sections of fewer states, each once a process, and the documents are the
    # same. The manifest and the failures are sorted when the run ends.
    todo.sort(key=lambda pending: (pending[3], pending[4]))
    total = len(todo)
    context = _Context(out, profile, practice_sha256, data_dirs, name_suffix, force, resume)
    for done, (entries, failure) in enumerate(_build_all(todo, context, jobs, pool), 1):
        result.written.extend(entries)  # into the manifest too (result.written shares it)
        if failure is not None:
            result.failed.append(failure)
        if progress:
            progress(done, total)


def _formats_to_write(
    row: Row, code: str, formats: tuple[str, ...], inputs: str, out: Path, manifest: Manifest,
    force: bool, resume: bool, suffix: str, result: Result,
    present: frozenset[str] | None = None,
) -> tuple[str, ...]:  # fmt: skip
    """The formats of this row's document to write; a skip or a failure for each of the others.
    `present`: the names in `out` when the run began, if it could be listed."""
    left = []
    for fmt in formats:
        name = file_name(row.id, code, row.request.setting, fmt, suffix)
        if present is not None and _folded(name) not in present:
            left.append(fmt)
            continue
        target = out / name
        if target.is_symlink():
            result.failed.append(Failure(row.line, row.id, f"{name} is a symbolic link; "
                                         "refusing to write through it"))  # fmt: skip
            continue
        if target.exists():
            sha256, recorded_inputs = manifest.checksums(name)
            if resume and _intact(target, sha256):
                if recorded_inputs == inputs:
                    result.skipped.append(name)
                    continue
                if not force:
                    why = (
                        "was built from other inputs (names, options, date or practice profile)"
                        if recorded_inputs is not None
                        else "was recorded without the checksum of its row (by an older "
                        "consentgen), so resuming cannot tell whether its row changed"
                    )
                    result.failed.append(Failure(row.line, row.id, f"{name} {why}; use "
                                                 "--force to rebuild it"))  # fmt: skip
                    continue
            if not force:
                hint = "use --force to replace it" if resume else "use --force or --resume"
                result.failed.append(Failure(row.line, row.id,
                                             f"{name} already exists; {hint}"))  # fmt: skip
                continue
        left.append(fmt)
    return tuple(left)


def _folded(name: str) -> str:
    """A file name as a case- or normalization-insensitive file system (macOS) compares it."""
    return unicodedata.normalize("NFC", name).casefold()


def _state_message(exc: UserError) -> str:
    """normalize_code's message without the value it was given (it may be a misplaced name)."""
    if exc.message.startswith("no jurisdiction file for "):  # a real state's code, no name
        return f"column 'state': {exc.message}"
    return ("column 'state' is not a state we have a file for (use a two-letter code such as "
            "CA, or a state's name)")  # fmt: skip


def _inputs_hmac(key: bytes, row_id: str, request: Request, explicit_date: bool,
                 practice_sha256: str, suffix: str) -> str:  # fmt: skip
    """A keyed checksum of everything a row's document is built from, names included.

    Keyed with the folder's secret, so that the manifest (which may be shared, for `recheck`)
    does not let anyone confirm a guessed name by hashing it. A date that was not given (today)
    is left out, so that resuming the next day does not see every row as changed.
    """
    inputs = {
        "id": row_id, "state": request.state, "setting": request.setting,
        "payment": request.payment, "supervisee": request.supervisee,
        "telehealth": request.telehealth, "profession": request.profession,
        "clients": list(request.clients), "guardians": list(request.guardians),
        "as_of": request.as_of.isoformat() if explicit_date and request.as_of else None,
        "practice_sha256": practice_sha256, "suffix": suffix,
    }  # fmt: skip
    message = json.dumps(inputs, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _rows_from_dicts(
    records: Iterable[dict[str, Any]],
) -> tuple[list[Row], list[Failure], list[str]]:
    plain: list[tuple[int, dict[str, Any]]] = []
    failures: list[Failure] = []
    unknown: set[str] = set()
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            failures.append(Failure(number, "", "each row must be a dict"))
            continue
        unknown |= {_shown(str(k)) for k in record if k not in REQUIRED + OPTIONAL}
        try:
            plain.append((number, _plain_record(record)))
        except ValueError as exc:
            failures.append(Failure(number, _safe_id(record.get("id")), str(exc)))
    rows, more = _checked_rows(plain)
    return rows, failures + more, sorted(unknown)


def _check_extras(formats: tuple[str, ...]) -> None:
    """Fail before any work when an output format's optional library is missing."""
    if "pdf" in formats:
        from consentgen.rendering import pdf

        pdf.require()
    if "docx" in formats:
        from consentgen.rendering import docx

        docx.require()


def _jobs(jobs: int | None, result: Result) -> int:
    """At most twice the cores and at most MAX_JOBS processes; a note when that caps a request."""
    limit = max(1, min((os.cpu_count() or 1) * 2, MAX_JOBS))
    if jobs is None:
        return max(1, min(os.cpu_count() or 1, limit))
    if jobs > limit:
        result.notes.append(f"--jobs {jobs} is more than this machine can use; using {limit}")
        return limit
    return max(1, jobs)


def _prepare(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file; --out-dir must be a folder")
    if not out_dir.exists():
        if not out_dir.parent.is_dir():
            raise UserError(f"folder {out_dir.parent} does not exist; create it first")
        try:
            out_dir.mkdir(mode=0o700)
        except FileExistsError:  # another batch made it meanwhile
            pass
        except OSError as exc:
            raise UserError(f"cannot create folder {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK):
        raise UserError(f"cannot write to folder {out_dir} (permission denied)")
    return out_dir


@contextlib.contextmanager
def _locked(out: Path, result: Result | None = None) -> Iterator[None]:
    """One batch at a time in a folder: an exclusive, non-blocking lock on DIR/.consentgen.lock.

    The lock goes with the process (and its workers): a killed batch never leaves it held.
    """
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    path = out / LOCK
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise UserError(f"cannot lock {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another consentgen batch is writing to {out}; wait for it or "
                            "choose another folder") from None  # fmt: skip
        except OSError as exc:  # a file system without locks (some network ones)
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise UserError(f"cannot lock {path}: {exc.strerror or exc}") from None
            if result is not None:
                result.notes.append(f"cannot lock {out} ({exc.strerror}): another batch writing "
                                    "there at the same time would not be noticed, though no "
                                    "file would be replaced without --force")  # fmt: skip
        yield
    finally:
        os.close(fd)


def _folder_key(out: Path) -> bytes:
    """The folder's random 32-byte key for the rows' checksums (made on first use, mode 0600)."""
    path = out / KEY
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            key = fh.read(64)
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    key = os.urandom(32)  # none yet, or a damaged one: the rows it checked will be reported
    write_atomic(path, key)
    return key


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intact(path: Path, sha256: str | None) -> bool:
    """The file is there with the checksum recorded for it."""
    try:
        return sha256 is not None and _sha256(path) == sha256
    except OSError:
        return False


def _fold_journal(out: Path, manifest: Manifest) -> bool:
    """Add the journal's entries whose file is there with the recorded checksum; True if any.

    An entry whose file never took its name (killed, or the name was taken) is left out.
    """
    folded = False
    for entry in journal_entries(out):
        if manifest.checksums(entry["file"]) == (entry["sha256"], entry.get("inputs_hmac")):
            continue  # this run's worker handed it back: no need to read the file again
        target = out / entry["file"]
        if target.is_symlink() or not target.is_file() or not _intact(target, entry["sha256"]):
            continue
        manifest.add(entry)
        folded = True
    return folded


# --- In parallel ------------------------------------------------------------------------------

Task = tuple[Row, tuple[str, ...], str]  # the row, its formats, the checksum of its inputs
# A row to build: the row as read, its formats, the checksum of its inputs, its state's code and
# its date (the request a worker gets is made from these when its chunk is sent).
Pending = tuple[Row, tuple[str, ...], str, str, dt.date]
Outcome = tuple[list[dict[str, Any]], "Failure | None"]


@frozen_value(kw_only=False)
class _Context(FrozenValue):
    out: Path
    profile: PracticeProfile
    practice_sha256: str
    data_dirs: tuple[Path, ...]
    suffix: str
    replace: bool
    resume: bool


def _task(pending: Pending) -> Task:
    row, formats, inputs, code, when = pending
    request = dataclasses.replace(row.request, state=code, as_of=when)
    return dataclasses.replace(row, request=request), formats, inputs


def _build_all(
    todo: list[Pending], context: _Context, jobs: int, pool: ProcessPoolExecutor | None = None
) -> Iterator[Outcome]:
    count = len(todo)
    tasks = (_task(pending) for pending in _drain(todo))
    size = max(1, min(64, count // (jobs * 4)))
    chunks = iter(lambda: list(itertools.islice(tasks, size)), [])
    if jobs == 1 or count < 8:
        for chunk in chunks:
            yield from _build_chunk(chunk, context)
        return
    pool = pool or _workers(jobs, context.data_dirs)
    try:
        # A few chunks in flight per worker; each result is let go once it is taken, so that
        # memory stays flat however many rows there are.
        running = {pool.submit(_build_chunk, chunk, context): chunk
                   for chunk in itertools.islice(chunks, jobs * 4)}  # fmt: skip
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                chunk = running.pop(future)
                try:
                    outcomes = future.result()
                except Exception:  # a worker died (out of memory, killed): its rows are reported
                    outcomes = [([], Failure(row.line, row.id, "its worker process stopped "
                                             "before the document was written; run again "
                                             "with --resume"))
                                for row, _, _ in chunk]  # fmt: skip
                yield from outcomes
                following = next(chunks, None)
                if following is not None:
                    running[pool.submit(_build_chunk, following, context)] = following
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _workers(jobs: int, data_dirs: tuple[Path, ...]) -> ProcessPoolExecutor:
    """The batch's worker processes, started before the rows are planned, so that each readies
    its template environment and templates while this process plans, not after."""
    import multiprocessing

    mp_context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=mp_context, initializer=_worker_started,
                               initargs=(os.getpid(), data_dirs))  # fmt: skip
    pool.submit(int)  # starts the workers (with fork, all of them at the first task)
    return pool


def _worker_started(parent: int, data_dirs: tuple[Path, ...] = ()) -> None:
    """A worker ends with its parent, even when the parent is killed (kill -9); then it readies
    the templates its rows will need.

    On Linux the kernel sends the worker SIGKILL when the parent dies (PR_SET_PDEATHSIG);
    elsewhere a thread checks every half second whether the parent is still there.
    """
    watched = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            watched = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            watched = False
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    if not watched:
        import threading

        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with contextlib.suppress(Exception):  # a row reports any problem of its own
        env = _Snapshot(data_dirs).env
        for name in env.list_templates():
            if name == "consent.md.j2" or name.startswith("sections/"):
                env.get_template(name)


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _build_chunk(chunk: list[Task], context: _Context) -> list[Outcome]:
    """Build a chunk's documents, then commit them together: each document is written under a
    temporary name and its journal entry appended; one sync makes all of them durable (files,
    make_durable); only then does each take its name. So, as with one document at a time, a
    document under its name is complete and recorded in the journal, whatever stops the run;
    a crash before the names are given leaves temporary files (removed by the next run) and
    entries without their files (left out when the journal is folded)."""
    try:
        snapshot: _Snapshot | None = _Snapshot(context.data_dirs)
    except ConsentgenError:  # a data folder gone: each row reports it
        snapshot = None
    built: list[tuple[Row, list[tuple[Staged, dict[str, Any]]], Failure | None]] = []
    try:
        for task in chunk:
            built.append(_build_one(task, context, snapshot))
        return _commit(built, context)
    finally:
        for _, writes, _ in built:  # what did not take its name (an interruption, a failure)
            for staged, _ in writes:
                staged.discard()


def _commit(
    built: list[tuple[Row, list[tuple[Staged, dict[str, Any]]], Failure | None]],
    context: _Context,
) -> list[Outcome]:
    staged = [file for _, writes, _ in built for file, _ in writes]
    try:
        with Journal(context.out) as journal:
            for _, writes, _ in built:
                for _, entry in writes:
                    journal.append(entry, sync=False)
            make_durable(staged, also=journal.open_fds)
    except (UserError, OSError) as exc:
        reason = exc.message if isinstance(exc, UserError) else (exc.strerror or str(exc))
        return [([], failure or Failure(row.line, row.id, f"its document could not be written "
                                        f"({_one_line(reason)}); run again with --resume"))
                for row, _, failure in built]  # fmt: skip
    outcomes: list[Outcome] = []
    for row, writes, failure in built:
        entries: list[dict[str, Any]] = []
        for staged_file, entry in writes:
            try:
                staged_file.put_in_place()
            except AlreadyExists:
                hint = "use --force to replace it" if context.resume else "use --force or --resume"
                failure = Failure(row.line, row.id, f"{entry['file']} already exists; {hint}")
                break
            except UserError as exc:
                failure = Failure(row.line, row.id, _one_line(exc.message))
                break
            entries.append(entry)
        outcomes.append((entries, failure))
    return outcomes


class _Snapshot:
    """The data and template folders as a chunk of rows is built with them, looked up once a
    chunk instead of once a row: the search path, the template folders' fingerprint and
    environment, and each jurisdiction file's checksum. A file edited during a batch is taken up
    by the next chunk; each document's data_version names the files it was built from either way.
    """

    __slots__ = ("env", "fingerprint", "search", "stamps", "template_dirs")

    def __init__(self, data_dirs: tuple[Path, ...]) -> None:
        from consentgen.engine import search_path, template_env

        self.search = search_path(data_dirs)
        self.template_dirs = tuple(self.search.template_dirs())
        self.fingerprint = files_fingerprint(self.template_dirs)
        self.env = template_env(self.template_dirs, self.fingerprint)
        self.stamps: dict[str, tuple[tuple[str, str], ...] | None] = {}

    def law_stamp(self, state: str) -> tuple[tuple[str, str], ...] | None:
        if state not in self.stamps:
            self.stamps[state] = _law_stamp(state, self.search)
        return self.stamps[state]


def _build_one(
    task: Task, context: _Context, snapshot: _Snapshot | None
) -> tuple[Row, list[tuple[Staged, dict[str, Any]]], Failure | None]:
    """The row's documents, each written under a temporary name with its journal entry, and
    the row's failure if one of them could not be built (those before it are kept)."""
    from consentgen import engine

    row, formats, inputs = task
    out = context.out
    writes: list[tuple[Staged, dict[str, Any]]] = []
    try:
        snapshot = snapshot or _Snapshot(context.data_dirs)
        document = _document(row.request, context.profile, context.data_dirs,
                             context.practice_sha256, snapshot)  # fmt: skip
        for fmt in formats:
            content = engine.render_with(document, fmt, snapshot.env)
            data = content.encode("utf-8") if isinstance(content, str) else content
            name = file_name(row.id, document.jurisdiction, row.request.setting, fmt,
                             context.suffix)  # fmt: skip
            # A name is one file's name (ids hold no separator); a link in its place is refused
            # when the document is written (files.stage), so no document lands outside `out`.
            if os.path.basename(name) != name or name in (".", ".."):
                raise UserError(f"{name} would be written outside {out}")
            target = out / name
            entry = {
                "id": row.id, "file": name, "sha256": hashlib.sha256(data).hexdigest(),
                "data_version": document.data_version, "state": document.jurisdiction,
                "setting": document.setting, "options": document.options,
                "as_of": document.as_of.isoformat(), "consentgen_version": __version__,
                # For `consentgen recheck`: what each section said, and with which profile,
                # as checksums (sections never hold client names).
                "sections": section_hashes(document),
                "practice_sha256": context.practice_sha256,
                # For --resume: the row it came from, as a keyed checksum (no names in clear).
                "inputs_hmac": inputs,
            }  # fmt: skip
            try:
                writes.append((stage(target, data, replace=context.replace, durable=False), entry))
            except AlreadyExists:
                hint = "use --force to replace it" if context.resume else "use --force or --resume"
                raise UserError(f"{name} already exists; {hint}") from None
    except ConsentgenError as exc:
        return row, writes, Failure(row.line, row.id, _one_line(str(exc)))
    except UnicodeError:
        return row, writes, Failure(row.line, row.id, "the document holds text that is not "
                                    "valid Unicode (from the profile or a template)")  # fmt: skip
    except Exception as exc:  # a bug must not end the batch, nor show a row's data
        return row, writes, Failure(row.line, row.id, f"could not be built "
                                    f"({type(exc).__name__}); please report this")  # fmt: skip
    return row, writes, None


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def section_hashes(document: Any) -> dict[str, str]:
    return {section.id: _text_sha256(section.paragraphs) for section in document.sections}


@functools.lru_cache(maxsize=4096)  # a batch's documents share most of their sections' text
def _text_sha256(paragraphs: tuple[str, ...]) -> str:
    return hashlib.sha256("\n\n".join(paragraphs).encode("utf-8")).hexdigest()


# --- Caches, keyed on content -----------------------------------------------------------------

_LAWS: dict[tuple[Any, ...], Any] = {}
_MEMOS: dict[tuple[Any, ...], dict[Any, Any]] = {}
_CACHE_SIZE = 64


def _document(request: Request, profile: PracticeProfile, data_dirs: tuple[Path, ...],
              practice_sha256: str, snapshot: _Snapshot) -> Any:  # fmt: skip
    """Build through one cached law and one section memo per law, profile and templates, each
    keyed on content (the files' checksums and the profile's), as lint's matrix does."""
    from consentgen import compose
    from consentgen.rendering.markdown import write_document

    law, sources, data_files = resolved_law(request.state, request.as_of, data_dirs, snapshot)
    key = (law.state.code, request.as_of, tuple(data_files), practice_sha256,
           snapshot.fingerprint)  # fmt: skip
    memo = _MEMOS.get(key)
    if memo is None:
        if len(_MEMOS) >= _CACHE_SIZE:
            _MEMOS.clear()
        memo = _MEMOS[key] = {}
    plan = compose.plan(dataclasses.replace(request, state=law.state.code), law, profile)
    return write_document(plan, profile, snapshot.env, data_files, sources, memo)


def resolved_law(
    state: str, as_of: dt.date, data_dirs: tuple[Path, ...], snapshot: _Snapshot | None = None
) -> Any:
    """engine.prepare_law, kept while the jurisdiction files it read hold the same bytes (as
    they were when `snapshot` first looked, when given)."""
    from consentgen.engine import prepare_law

    search = snapshot.search if snapshot is not None else SearchPath.make(data_dirs)
    before = snapshot.law_stamp(state) if snapshot is not None else _law_stamp(state, search)
    key = (state, as_of, data_dirs, before)
    if before is not None and key in _LAWS:
        return _LAWS[key]
    value = prepare_law(state, as_of, data_dirs)
    if before is not None and _law_stamp(state, search) == before:  # not edited meanwhile
        if len(_LAWS) >= _CACHE_SIZE:
            _LAWS.clear()
        _LAWS[key] = value
    return value


def _law_stamp(state: str, search: Any) -> tuple[tuple[str, str], ...] | None:
    """(path, sha256) of the federal file and the state's file, or None if either is not found."""
    code = state.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code == jurisdictions.FEDERAL:
        return None
    federal = search.find(f"jurisdictions/{jurisdictions.FEDERAL}.yaml")
    found = search.find(f"jurisdictions/{code}.yaml")  # the file jurisdictions.available picks
    if federal is None or found is None:
        return None
    try:
        return tuple((str(p), hashlib.sha256(p.read_bytes()).hexdigest())
                     for p in (federal[0], found[0]))  # fmt: skip
    except OSError:
        return None
