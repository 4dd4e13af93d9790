"""What the commands do once their options are parsed, and how they report: one line on stderr
for each message, exit code 2 for bad usage or bad input, never a traceback.

Nothing here imports the command-line parser (Typer and Click): typer_app.py parses every
command and calls these, and launch.py calls `build` directly for a plain build, which then
starts faster.
"""

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, ParamSpec

from consentgen.errors import ConsentgenError, UserError
from consentgen.files import remove_stale_temporary_files, write_atomic
from consentgen.textsafe import has_control, visible

P = ParamSpec("P")

# What `--format` accepts, and the formats -o's extension names.
FORMATS = ("md", "html", "txt", "json", "pdf", "docx")
EXTENSIONS = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
    ".json": "json",
    ".pdf": "pdf",
    ".docx": "docx",
}


def to_stderr(message: str, style: str | None = None) -> None:
    """One message, on one line: control characters from input (file names, values, codes) are
    shown as `\\x1b`, `\\n`..., never sent to the terminal."""
    message = visible(message)
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True).print(
            message, style=style, markup=False, emoji=False
        )
    else:
        print(message, file=sys.stderr)


def fail(message: str, code: int = 2) -> NoReturn:
    to_stderr(f"error: {message}", "bold red")
    raise SystemExit(code)


def parse_date(text: str | None, option: str = "--as-of") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} '{text}' is not a date; use YYYY-MM-DD, e.g. 2026-01-31")


def check_guardians(guardians: Sequence[str] | None, setting: str) -> None:
    from consentgen.model import GUARDIAN_SETTINGS

    if guardians and setting not in GUARDIAN_SETTINGS:
        fail("--guardian is only for --setting minor, family or group")


def handle_errors(func: Callable[P, None]) -> Callable[P, None]:
    """Turn the library's errors into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        import warnings

        from consentgen.cache import CacheWarning

        def show(message, category, *rest, **options):  # type: ignore[no-untyped-def]
            if issubclass(category, CacheWarning):
                to_stderr(f"warning: {message}", "yellow")
            else:
                shown(message, category, *rest, **options)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", CacheWarning)  # the library says it once
                shown, warnings.showwarning = warnings.showwarning, show
                func(*args, **kwargs)
        except UserError as exc:
            fail(exc.message, exc.exit_code)
        except ConsentgenError as exc:
            fail(str(exc))
        except BrokenPipeError:
            raise  # the reader went away (`| head`): the command exits quietly with code 1
        except OSError as exc:  # a path the system refuses (too long, a loop...): still one line
            fail(os_error(exc))

    return wrapper


def os_error(exc: OSError, path: object = None) -> str:
    import errno

    where = path if path is not None else exc.filename
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENAMETOOLONG:
        reason = "the path is too long for the system (a name over 255 bytes, or the whole over "
        reason += "4096)"
    return f"{where}: {reason}" if where is not None else reason


def output_format(output: Path | None, fmt: str | None) -> str:
    if output is None:
        return fmt or "md"
    inferred = EXTENSIONS.get(output.suffix.lower())
    if fmt is None:
        if inferred is None:
            fail(
                f"cannot tell the format from '{output.name}'; use an extension "
                f"({', '.join(sorted(set(EXTENSIONS)))}) or --format"
            )
        return inferred
    return fmt


def check_output(output: Path, force: bool) -> None:
    control = has_control(str(output))
    if control:
        fail(f"the path {output} has a control character ({visible(control)}) in it; choose a "
             "name without one")  # fmt: skip
    parent = output.parent if str(output.parent) else Path(".")
    try:
        if not parent.is_dir():
            fail(f"folder {parent} does not exist; create it first or choose another -o path")
        if output.is_dir():
            fail(f"{output} is a folder; give a file name with -o")
        if output.exists() and not force:
            fail(f"{output} already exists; use --force to replace it")
    except OSError as exc:
        fail(os_error(exc, output))
    if not os.access(parent, os.W_OK):
        fail(f"cannot write to folder {parent} (permission denied)")


@handle_errors
def build(
    *,
    state: str,
    setting: str = "individual",
    payment: str = "insurance",
    supervisee: bool = False,
    telehealth: bool = False,
    profession: str | None = None,
    client: Sequence[str] | None = None,
    guardian: Sequence[str] | None = None,
    practice: Path | None = None,
    fmt: str | None = None,
    output: Path | None = None,
    force: bool = False,
    strict: bool = False,
    as_of: str | None = None,
    data_dir: Sequence[Path] | None = None,
) -> None:
    """`consentgen build`, its options parsed: see its help in typer_app.py."""
    from consentgen import api
    from consentgen.model import Request

    out_format = output_format(output, fmt)
    if output is not None:
        check_output(output, force)
    elif out_format in ("pdf", "docx"):
        fail(f"{out_format.upper()} is a binary format; write it to a file with -o FILE")
    check_guardians(guardian, setting)
    for option, names in (("--client", client or ()), ("--guardian", guardian or ())):
        for number, name in enumerate(names, 1):
            problem = Request.name_problem(name)
            if problem:  # the same rule as a batch's rows; the name itself is never shown
                fail(f"{option} {number} holds {problem}; remove it")
    request = Request(
        state=state,
        setting=setting,
        payment=payment,
        supervisee=supervisee,
        telehealth=telehealth,
        profession=profession,
        clients=tuple(client or ()),
        guardians=tuple(guardian or ()),
        as_of=parse_date(as_of),
    )
    document = api.build_document(request, practice=practice, data_dirs=data_dir or ())
    from consentgen import guidance

    notices = guidance.check_document(document, practice, data_dirs=data_dir or ())
    for notice in notices:
        if strict and notice.error_when_strict:
            fail(f"{notice.message} (--strict)")
    sheet = api.review_sheet(request, practice=practice, data_dirs=data_dir or ())
    to_check = _to_check_line(sheet, request, practice, data_dir)
    if strict and to_check:
        fail(f"{to_check} (--strict)", code=1)
    text = api.render(document, out_format, data_dirs=data_dir or ())
    if output is None:
        sys.stdout.write(str(text))
    else:
        remove_stale_temporary_files(output.parent if str(output.parent) else Path("."))
        # Without --force, a file that another process wrote meanwhile is never replaced.
        write_atomic(output, text, replace=force)
    if document.missing:
        shown = ", ".join(document.missing[:8]) + (" …" if len(document.missing) > 8 else "")
        to_stderr(
            f"warning: {len(document.missing)} profile value(s) missing, printed as blanks "
            f"to fill in: {shown}",
            "yellow",
        )
    if to_check:
        to_stderr(f"warning: {to_check}", "yellow")
    for notice in notices:
        to_stderr(f"warning: {notice.message}", "yellow")
    if output is not None:
        to_stderr(f"wrote {output} ({out_format})", "green")


def _to_check_line(sheet: Any, request: Any, practice: Path | None,
                   data_dir: Sequence[Path] | None) -> str | None:  # fmt: skip
    """The one line about statements of law neither verified nor reviewed, with the command
    that lists them (no client names), or None."""
    pending = len(sheet.pending)
    if not pending:
        return None
    words = ["consentgen", "review", "--state", request.state, "--setting", request.setting]
    if request.payment != "insurance":
        words += ["--payment", request.payment]
    words += ["--supervisee"] * request.supervisee + ["--telehealth"] * request.telehealth
    if request.profession:
        words += ["--profession", request.profession]
    if request.as_of:
        words += ["--as-of", request.as_of.isoformat()]
    if practice is not None:
        words += ["--practice", str(practice)]
    for folder in data_dir or ():
        words += ["--data-dir", str(folder)]
    import shlex

    return (f"{pending} statement(s) of law in this document are neither verified in "
            f"consentgen's data nor reviewed by you; to see them: {shlex.join(words)}")  # fmt: skip
