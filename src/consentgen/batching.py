"""Many documents at once, from a CSV or JSON Lines export of a scheduling system.

One document per row and format, named from the row's id, state and setting (never from a
client's name), written atomically and readable by their owner only, in parallel processes, and
recorded in DIR/manifest.json (no client names there either). A bad row is reported by its line
and id; the other rows still produce their documents.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from consentgen import __version__, jurisdictions
from consentgen.errors import ConsentgenError, UserError
from consentgen.files import write_atomic
from consentgen.model import Payment, PracticeProfile, Profession, Request, Setting

SETTINGS: tuple[str, ...] = get_args(Setting)
PAYMENTS: tuple[str, ...] = get_args(Payment)
PROFESSIONS: tuple[str, ...] = get_args(Profession)

REQUIRED = ("id", "state", "setting", "clients")
OPTIONAL = ("payment", "supervisee", "telehealth", "guardian", "profession", "as_of")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the input file (1-based)
    id: str
    request: Request


@dataclass(frozen=True)
class Failure:
    line: int
    id: str
    message: str  # never holds a client's name

    def __str__(self) -> str:
        who = f"id {self.id}: " if self.id else ""
        return f"{self.line}: {who}{self.message}"


@dataclass
class Result:
    written: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)


# --- Reading the input ----------------------------------------------------------------------


def read_rows(path: Path) -> tuple[list[Row], list[Failure], list[str]]:
    """Rows, failures (bad rows) and unknown column names; UserError if the file is unusable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text; export it as UTF-8 CSV") from None
    records: list[tuple[int, dict[str, Any]]]
    if path.suffix.lower() in (".jsonl", ".ndjson") or text.lstrip().startswith("{"):
        records, failures = _jsonl_records(path, text)
        columns = sorted({key for _, record in records for key in record})
    else:
        records, failures, columns = _csv_records(path, text)
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; the header needs "
                            f"{', '.join(REQUIRED)}")  # fmt: skip
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    rows: list[Row] = []
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
    return rows, failures, unknown


def _csv_records(path: Path, text: str) -> tuple[list[tuple[int, dict[str, Any]]],
                                                  list[Failure], list[str]]:  # fmt: skip
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UserError(f"{path}: empty file; the first line must name the columns") from None
    except csv.Error as exc:
        raise UserError(f"{path}:1: not valid CSV ({exc})") from None
    records: list[tuple[int, dict[str, Any]]] = []
    failures: list[Failure] = []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            failures.append(Failure(line, "", f"not valid CSV ({exc})"))
            line = reader.line_num + 1
            continue
        if any(v.strip() for v in values):
            record = dict(zip(header, values, strict=False))
            if len(values) > len(header):
                failures.append(Failure(line, _safe_id(record.get("id")),
                                        f"{len(values)} fields but the header names "
                                        f"{len(header)}"))  # fmt: skip
            else:
                records.append((line, record))
        line = reader.line_num + 1
    return records, failures, header


def _jsonl_records(path: Path, text: str) -> tuple[list[tuple[int, dict[str, Any]]],
                                                    list[Failure]]:  # fmt: skip
    records: list[tuple[int, dict[str, Any]]] = []
    failures: list[Failure] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(Failure(number, "", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            failures.append(Failure(number, "", "each line must be a JSON object"))
            continue
        records.append((number, {k: _jsonl_value(v) for k, v in record.items()}))
    return records, failures


def _jsonl_value(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _safe_id(value: Any) -> str:
    text = str(value or "").strip()
    return text if _ID.fullmatch(text) else ""


def _row(line: int, record: dict[str, Any]) -> Row:
    def text(key: str) -> str:
        value = record.get(key)
        return "" if value is None else str(value).strip()

    for key in REQUIRED:
        if not text(key):
            raise ValueError(f"'{key}' is empty; every row needs {', '.join(REQUIRED)}")
    row_id = text("id")
    if not _ID.fullmatch(row_id):
        raise ValueError("the id may hold only letters, digits, '.', '_' and '-' (at most 100), "
                         "because it names the document's file")  # fmt: skip
    setting = text("setting").lower()
    if setting not in SETTINGS:
        raise ValueError(f"setting '{setting}' is not one of {', '.join(SETTINGS)}")
    payment = text("payment").lower() or "insurance"
    if payment not in PAYMENTS:
        raise ValueError(f"payment '{payment}' is not one of {', '.join(PAYMENTS)}")
    profession = text("profession").lower() or None
    if profession is not None and profession not in PROFESSIONS:
        raise ValueError(f"profession '{profession}' is not one of {', '.join(PROFESSIONS)}")
    as_of = None
    if text("as_of"):
        try:
            as_of = dt.date.fromisoformat(text("as_of"))
        except ValueError:
            raise ValueError(f"as_of '{text('as_of')}' is not a date (YYYY-MM-DD)") from None
    guardians = _names(text("guardian"))
    if guardians and setting != "minor":
        raise ValueError("a guardian is only for the minor setting")
    clients = _names(text("clients"))
    request = Request(state=text("state"), setting=setting, payment=payment,
                      supervisee=_yes_no(text("supervisee"), "supervisee"),
                      telehealth=_yes_no(text("telehealth"), "telehealth"),
                      profession=profession, clients=clients, guardians=guardians,
                      as_of=as_of)  # fmt: skip
    return Row(line, row_id, request)


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(";") if name.strip())


def _yes_no(value: str, key: str) -> bool:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError(f"'{key}' must be yes or no (or true/false, y/n, 1/0), not '{value}'")


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
    only_ids: set[str] | None = None,
    name_suffix: str = "",
    as_of_over_rows: bool = False,
) -> Result:
    """Build every row's documents into `out_dir`; see the module's docstring."""
    from consentgen.api import FORMATS, load_profile

    for fmt in formats:
        if fmt not in FORMATS:
            raise UserError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    if isinstance(source, Path):
        rows, failures, unknown = read_rows(source)
    else:
        rows, failures, unknown = _rows_from_dicts(source)
    profile = load_profile(practice)
    _check_extras(formats)
    out = _prepare(out_dir)
    manifest = _read_manifest(out)
    as_of = default_as_of or dt.date.today()
    result = Result(failed=list(failures), unknown_columns=unknown)
    search = _search_path(data_dirs)
    checked: list[Row] = []
    if only_ids is not None:
        rows = [row for row in rows if row.id in only_ids]
    for row in rows:
        try:  # the state's code names the file, so it is settled before anything is written
            code = jurisdictions.normalize_code(row.request.state, search)
        except UserError as exc:
            result.failed.append(Failure(row.line, row.id, exc.message))
            continue
        row_date = None if as_of_over_rows else row.request.as_of
        request = dataclasses.replace(row.request, state=code, as_of=row_date or as_of)
        checked.append(dataclasses.replace(row, request=request))

    todo: list[tuple[Row, list[str]]] = []
    for row in checked:
        formats_left = []
        for fmt in formats:
            name = file_name(row.id, row.request.state, row.request.setting, fmt, name_suffix)
            target = out / name
            if target.is_symlink():
                result.failed.append(Failure(row.line, row.id, f"{name} is a symbolic link; "
                                             "refusing to write through it"))  # fmt: skip
                continue
            if target.exists():
                if resume and _intact(target, manifest.get(name)):
                    result.skipped.append(name)
                    continue
                if not force:
                    hint = "use --force to replace it" if resume else "use --force or --resume"
                    result.failed.append(Failure(row.line, row.id,
                                                 f"{name} already exists; {hint}"))  # fmt: skip
                    continue
            formats_left.append(fmt)
        if formats_left:
            todo.append((row, formats_left))

    total = len(todo)
    outcomes = _build_all(todo, out, profile, data_dirs, jobs, name_suffix)
    for done, (entries, failure) in enumerate(outcomes, 1):
        result.written.extend(entries)
        if failure is not None:
            result.failed.append(failure)
        if progress:
            progress(done, total)
    for entry in result.written:
        manifest[entry["file"]] = entry
    _write_manifest(out, manifest)
    result.failed.sort(key=lambda f: f.line)
    return result


def _rows_from_dicts(
    records: Iterable[dict[str, Any]],
) -> tuple[list[Row], list[Failure], list[str]]:
    rows: list[Row] = []
    failures: list[Failure] = []
    unknown: set[str] = set()
    for number, record in enumerate(records, 1):
        unknown |= set(record) - set(REQUIRED + OPTIONAL)
        try:
            rows.append(_row(number, {k: _jsonl_value(v) for k, v in record.items()}))
        except ValueError as exc:
            failures.append(Failure(number, _safe_id(record.get("id")), str(exc)))
    return rows, failures, sorted(unknown)


def _search_path(data_dirs: tuple[Path, ...]) -> Any:
    from consentgen.resources import SearchPath

    return SearchPath.make(data_dirs)


def _check_extras(formats: tuple[str, ...]) -> None:
    """Fail before any work when an output format's optional library is missing."""
    needs = {"pdf": ("weasyprint", "pdf", "WeasyPrint"), "docx": ("docx", "docx", "python-docx")}
    for fmt in formats:
        if fmt in needs:
            module, extra, name = needs[fmt]
            try:
                __import__(module)
            except ImportError:
                raise UserError(
                    f"{fmt.upper()} output needs {name}: pip install 'consentgen[{extra}]'"
                ) from None


def _prepare(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file; --out-dir must be a folder")
    if not out_dir.exists():
        if not out_dir.parent.is_dir():
            raise UserError(f"folder {out_dir.parent} does not exist; create it first")
        out_dir.mkdir(mode=0o700)
    if not os.access(out_dir, os.W_OK):
        raise UserError(f"cannot write to folder {out_dir} (permission denied)")
    return out_dir


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intact(path: Path, entry: dict[str, Any] | None) -> bool:
    return bool(entry) and _sha256(path) == entry.get("sha256")


def _read_manifest(out: Path) -> dict[str, dict[str, Any]]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {entry["file"]: entry for entry in data["documents"]}
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path} is not a consentgen manifest; move it away or fix it") from None


def _write_manifest(out: Path, manifest: dict[str, dict[str, Any]]) -> None:
    documents = sorted(manifest.values(), key=lambda e: (e["id"], e["file"]))
    text = json.dumps({"documents": documents}, indent=2, ensure_ascii=False) + "\n"
    write_atomic(out / MANIFEST, text.encode("utf-8"))


# --- In parallel ------------------------------------------------------------------------------

Task = tuple[Row, list[str]]
Outcome = tuple[list[dict[str, Any]], "Failure | None"]


def _build_all(
    todo: list[Task], out: Path, profile: PracticeProfile, data_dirs: tuple[Path, ...],
    jobs: int | None, suffix: str = "",
) -> Iterator[Outcome]:  # fmt: skip
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1 or len(todo) < 8:
        for task in todo:
            yield _build_one(task, out, profile, data_dirs, suffix)
        return
    import multiprocessing

    size = max(1, min(64, len(todo) // (jobs * 4)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [
            pool.submit(_build_chunk, chunk, out, profile, data_dirs, suffix) for chunk in chunks
        ]
        for future in as_completed(futures):
            yield from future.result()


def _build_chunk(
    chunk: list[Task],
    out: Path,
    profile: PracticeProfile,
    data_dirs: tuple[Path, ...],
    suffix: str,
) -> list[Outcome]:
    return [_build_one(task, out, profile, data_dirs, suffix) for task in chunk]


def _build_one(
    task: Task,
    out: Path,
    profile: PracticeProfile,
    data_dirs: tuple[Path, ...],
    suffix: str = "",
) -> Outcome:
    from consentgen import api

    row, formats = task
    entries: list[dict[str, Any]] = []
    try:
        document = _document(row.request, profile, data_dirs)
        for fmt in formats:
            content = api.render(document, fmt, data_dirs=data_dirs)
            data = content.encode("utf-8") if isinstance(content, str) else content
            name = file_name(row.id, document.jurisdiction, row.request.setting, fmt, suffix)
            target = out / name
            if target.resolve().parent != out.resolve():
                raise UserError(f"{name} would be written outside {out}")
            write_atomic(target, data)
            entries.append({
                "id": row.id, "file": name, "sha256": hashlib.sha256(data).hexdigest(),
                "data_version": document.data_version, "state": document.jurisdiction,
                "setting": document.setting, "options": document.options,
                "as_of": document.as_of.isoformat(), "consentgen_version": __version__,
                # For `consentgen recheck`: what each section said, and with which profile,
                # as checksums (sections never hold client names).
                "sections": section_hashes(document),
                "practice_sha256": profile_hash(profile),
            })  # fmt: skip
    except ConsentgenError as exc:
        return entries, Failure(row.line, row.id, str(exc))
    return entries, None


def section_hashes(document: Any) -> dict[str, str]:
    return {
        section.id: hashlib.sha256("\n\n".join(section.paragraphs).encode("utf-8")).hexdigest()
        for section in document.sections
    }


def profile_hash(profile: PracticeProfile) -> str:
    return hashlib.sha256(repr(profile).encode("utf-8")).hexdigest()


def _document(request: Request, profile: PracticeProfile, data_dirs: tuple[Path, ...]) -> Any:
    """Build through one cached law and section memo per (state, date), as lint's matrix does."""
    from consentgen import compose
    from consentgen.api import _env, _search
    from consentgen.render.markdown import write_document

    search = _search(data_dirs)
    law, sources, data_files = resolved_law(request.state, request.as_of, data_dirs)
    memo = _memo(law.state.code, request.as_of, data_dirs, id(profile))
    plan = compose.plan(dataclasses.replace(request, state=law.state.code), law, profile)
    return write_document(plan, profile, _env(tuple(search.template_dirs())), data_files,
                          sources, memo)  # fmt: skip


@functools.lru_cache(maxsize=256)
def resolved_law(state: str, as_of: dt.date, data_dirs: tuple[Path, ...]) -> Any:
    from consentgen.api import prepare_law

    return prepare_law(state, as_of, data_dirs)


@functools.lru_cache(maxsize=256)
def _memo(code: str, as_of: dt.date, data_dirs: tuple[Path, ...], profile_key: int) -> dict:
    return {}
