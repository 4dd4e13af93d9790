"""The command line: parse options, call the library, report on stderr, write files, exit.

Exit codes: 0 success, 1 findings or failed rows, 2 bad usage or bad input.
"""

# No `from __future__ import annotations` here: Typer reads these signatures at every start, and
# real annotation objects spare it evaluating strings.
import contextlib
import datetime as dt
import enum
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, get_args

import typer
import typer.core

# Typer vendors Click (typer._click) in every version pyproject.toml allows (0.26 to 0.28): the
# one-line usage errors below read its exception and parameter types.
from typer._click import core as click_core
from typer._click import exceptions as click_exc
from typer._click import types as click_types
from typer._types import TyperChoice

from consentgen.cli import commands
from consentgen.cli.commands import (
    FORMATS,
    check_guardians,
    check_output,
    fail,
    handle_errors,
    output_format,
    parse_date,
    to_stderr,
)
from consentgen.files import write_atomic
from consentgen.model import Payment, Profession, Setting
from consentgen.textsafe import csv_cell, json_text, visible
from consentgen.version import __version__


class _Command(typer.core.TyperCommand):
    """A command whose usage line names its arguments as the help does: `FILE`, not `{FILE}`."""

    def collect_usage_pieces(self, ctx: click_core.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def parse_args(self, ctx: click_core.Context, args: list[str]) -> list[str]:
        with _in_context(ctx):
            return super().parse_args(ctx, args)


@contextlib.contextmanager
def _in_context(ctx: click_core.Context) -> Iterator[None]:
    """The parser raises some usage errors without their command (`--state` with no value): give
    them one, so the message can say what the option takes."""
    try:
        yield
    except click_exc.UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


class _Group(typer.core.TyperGroup):
    """The command group: every usage error (an unknown option or command, a missing argument, a
    value that is not one of the choices or not a number) is one line on stderr naming the option
    and what it accepts, and exit code 2, never the parser's usage block."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click_exc.NoArgsIsHelpError:
            raise
        except click_exc.UsageError as exc:
            fail(_usage_message(exc))

    def parse_args(self, ctx: click_core.Context, args: list[str]) -> list[str]:
        with _in_context(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click_core.Context) -> object:
        try:
            return super().invoke(ctx)
        except click_exc.NoArgsIsHelpError:
            raise
        except click_exc.UsageError as exc:
            fail(_usage_message(exc))


class _Typer(typer.Typer):
    def command(self, *args, cls=None, **kwargs):  # type: ignore[no-untyped-def,override]
        return super().command(*args, cls=cls or _Command, **kwargs)


def _option_name(param: click_core.Parameter | None) -> str:
    """How an option or argument is named in a message: its long option, or its label."""
    if param is None:
        return "a value"
    if isinstance(param, typer.core.TyperOption):
        return max(param.opts, key=lambda o: (o.startswith("--"), len(o)))
    return (param.metavar or param.name or "").strip("[].") or "an argument"


def _accepted(param: click_core.Parameter | None, ctx: click_core.Context | None) -> str:
    """What `param` accepts, in words: its choices, a number's range, its label."""
    kind = getattr(param, "type", None)
    if isinstance(kind, TyperChoice):
        return "one of " + ", ".join(kind._normalized_mapping(ctx=ctx).values())
    if isinstance(kind, click_types._NumberRangeBase):
        low, high = kind.min, kind.max
        whole = "a whole number" if isinstance(kind, click_types.IntParamType) else "a number"
        if low is not None and high is not None:
            return f"{whole} from {low} to {high}"
        return f"{whole} of {low} or more" if low is not None else f"{whole} up to {high}"
    if isinstance(kind, click_types.IntParamType):
        return "a whole number"
    if isinstance(kind, click_types.FloatParamType):
        return "a number"
    metavar = getattr(param, "metavar", None)
    return metavar or "a value"


def _usage_message(exc: click_exc.UsageError) -> str:
    ctx = exc.ctx
    command = ctx.command_path if ctx else "consentgen"
    see = f"see {command} -h"
    text = exc.format_message() if not isinstance(exc, click_exc.BadParameter) else exc.message
    if isinstance(exc, click_exc.MissingParameter):
        param = exc.param
        if isinstance(param, typer.core.TyperOption):
            label = f" {param.metavar}" if param.metavar else ""
            accepted = _accepted(param, ctx)
            what = f"; {accepted}" if accepted != param.metavar else ""
            return f"{command} needs {_option_name(param)}{label}{what} ({see})"
        return f"{command} needs {_option_name(param)} ({see})"
    if isinstance(exc, click_exc.BadParameter):
        param, hint = exc.param, _option_name(exc.param)
        kind = getattr(param, "type", None)
        if isinstance(kind, TyperChoice) and " is not one of " in text:
            value = text.rsplit(" is not one of ", 1)[0]
            return f"{hint} {value} is not {_accepted(param, ctx)}"
        if isinstance(kind, click_types._NumberParamTypeBase):
            if " is not a valid " in text:
                value = text.rsplit(" is not a valid ", 1)[0]
                return f"{hint} {value} is not {_accepted(param, ctx)}"
            if " is not in the range " in text:
                value = text.rsplit(" is not in the range ", 1)[0]
                return f"{hint} {value} is out of range: use {_accepted(param, ctx)}"
        return f"{hint}: {text[:1].lower()}{text[1:].rstrip('.')}"
    if isinstance(exc, click_exc.NoSuchOption):
        close = [p for p in exc.possibilities or () if p.startswith("--")] or exc.possibilities
        if close:
            hint = f"did you mean {' or '.join(sorted(close))}?"
        else:
            hint = "its options: " + ", ".join(_option_names(ctx))
        return f"{command} has no option {exc.option_name}; {hint}"
    if isinstance(exc, click_exc.BadOptionUsage) and "requires" in text and ctx is not None:
        param = next((p for p in ctx.command.params if exc.option_name in p.opts), None)
        return f"{exc.option_name} needs a value: {_accepted(param, ctx)}"
    extra = re.fullmatch(r"Got unexpected extra argument\(s\) \((.*)\)", text)
    if extra and ctx is not None:
        usage = " ".join(ctx.command.collect_usage_pieces(ctx))
        return f"unexpected extra argument(s) {extra.group(1)!r}; usage: {command} {usage}"
    unknown = re.fullmatch(r"No such command '(.*?)'\.(?: Did you mean (.*)\?)?", text)
    if unknown and ctx is not None:
        names = ", ".join(n for n, c in getattr(ctx.command, "commands", {}).items()
                          if not c.hidden)  # fmt: skip
        guess = f"did you mean {unknown.group(2)}? " if unknown.group(2) else ""
        return f"unknown command {unknown.group(1)!r}; {guess}commands: {names}"
    return f"{text[:1].lower()}{text[1:].rstrip('.')} ({see})"


def _option_names(ctx: click_core.Context | None) -> list[str]:
    if ctx is None:
        return []
    return [_option_name(p) for p in ctx.command.get_params(ctx)
            if isinstance(p, typer.core.TyperOption) and not p.hidden]  # fmt: skip


app = _Typer(
    cls=_Group,
    name="consentgen",
    help="Write an informed-consent document that tells a psychotherapy client, in plain "
    "language and with citations, where confidentiality ends under their state's law.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold clients' names
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _choices(name: str, values: tuple[str, ...]) -> type[enum.StrEnum]:
    """A Typer choice type from one of the model's lists: the model stays the one list."""
    return enum.StrEnum(name, {value.replace("-", "_"): value for value in values})


SettingChoice = _choices("SettingChoice", get_args(Setting))
PaymentChoice = _choices("PaymentChoice", get_args(Payment))
ProfessionChoice = _choices("ProfessionChoice", get_args(Profession))
FormatChoice = _choices("FormatChoice", FORMATS)


class ListFormat(enum.StrEnum):
    table = "table"
    json = "json"


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="The day that counts as today (for staged changes and staleness). Default: today.",
    ),
]
DataDirOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="A folder with your own jurisdictions/ and templates/, "
        "searched before the built-in data (repeatable; also CONSENTGEN_PATH).",
        file_okay=False,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="Use the law as it stood on this date (default: today).",
    ),
]

# The options that describe a request, shared by build, review and diff.
SettingOption = Annotated[
    SettingChoice, typer.Option(case_sensitive=False, help="Who takes part in therapy.")
]
PaymentOption = Annotated[
    PaymentChoice,
    typer.Option(
        case_sensitive=False,
        help="insurance adds what insurers receive; self-pay adds the good faith estimate notice.",
    ),
]
SuperviseeOption = Annotated[
    bool,
    typer.Option(
        "--supervisee", help="The clinician is supervised (the profile names the supervisor)."
    ),
]
TelehealthOption = Annotated[bool, typer.Option("--telehealth", help="Add the telehealth section.")]
ProfessionOption = Annotated[
    ProfessionChoice | None, typer.Option(case_sensitive=False, help="Default: the profile's.")
]


def _version(value: bool) -> None:
    if value:
        print(f"consentgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """consentgen: informed-consent documents with the limits of confidentiality, by state."""


@app.command(short_help="Build one consent document (a client, couple, family or group).")
def build(
    state: Annotated[
        str,
        typer.Option(
            "--state",
            "-s",
            metavar="XX",
            help="Two-letter code (any case) or state name. For telehealth: where the client is.",
        ),
    ],
    setting: SettingOption = SettingChoice.individual,
    payment: PaymentOption = PaymentChoice.insurance,
    supervisee: SuperviseeOption = False,
    telehealth: TelehealthOption = False,
    profession: ProfessionOption = None,
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client", metavar="NAME", help="A client's name; repeat for each participant."
        ),
    ] = None,
    guardian: Annotated[
        list[str] | None,
        typer.Option(
            "--guardian",
            metavar="NAME",
            help="A parent or guardian who signs for a minor (--setting minor), or for a minor "
            "member of a family or group (repeatable).",
        ),
    ] = None,
    practice: Annotated[
        Path | None,
        typer.Option(
            "--practice",
            "-p",
            metavar="FILE",
            help="The practice profile (YAML); see `consentgen init`.",
        ),
    ] = None,
    fmt: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="Default: from -o's extension, else md."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write here (mode 0600) instead of stdout."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing -o file.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse (exit 2) a document that prints a value still equal to the example "
            "profile's (as `consentgen init` wrote it), and (exit 1) one with statements of "
            "law neither verified nor reviewed (see `consentgen review`); nothing is written.",
        ),
    ] = False,
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Build the consent document for one client (or couple, family, group member, minor)."""
    commands.build(
        state=state, setting=setting.value, payment=payment.value, supervisee=supervisee,
        telehealth=telehealth, profession=profession.value if profession else None,
        client=client, guardian=guardian, practice=practice, fmt=fmt.value if fmt else None,
        output=output, force=force, strict=strict, as_of=as_of, data_dir=data_dir,
    )  # fmt: skip


@app.command(short_help="The clinician's review sheet: each statement of law, to check.")
@handle_errors
def review(
    state: Annotated[
        str,
        typer.Option(
            "--state",
            "-s",
            metavar="XX",
            help="Two-letter code (any case) or state name, as for build.",
        ),
    ],
    setting: SettingOption = SettingChoice.individual,
    payment: PaymentOption = PaymentChoice.insurance,
    supervisee: SuperviseeOption = False,
    telehealth: TelehealthOption = False,
    profession: ProfessionOption = None,
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client", metavar="NAME", help="Accepted as for build; the sheet names no client."
        ),
    ] = None,
    guardian: Annotated[
        list[str] | None,
        typer.Option(
            "--guardian", metavar="NAME", help="Accepted as for build; the sheet names no one."
        ),
    ] = None,
    practice: Annotated[
        Path | None,
        typer.Option(
            "--practice",
            "-p",
            metavar="FILE",
            help="The practice profile (YAML); its `reviewed` list marks your checks.",
        ),
    ] = None,
    fmt: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="md, html or json. Default: from -o's extension, else md.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write here (mode 0600) instead of stdout."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing -o file.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any statement still needs a check.")
    ] = False,
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write the clinician's review sheet for the document `build` would write with the same
    options: every statement of law in it, its section, its citations and the pages they were
    read in, whether consentgen's data has it verified, what to check (with the deadlines and
    agencies for making a report), and whether your practice has reviewed it.

    Record a review in the practice profile: reviewed: [{rule: CA.privilege, on: 2026-11-30,
    by: "J. Lee"}]. It counts until the rule's data changes after that day.
    """
    from consentgen import api
    from consentgen.model import Request

    out_format = output_format(output, fmt.value if fmt else None)
    if out_format not in api.REVIEW_FORMATS:
        fail(f"a review sheet is md, html or json, not {out_format}")
    if output is not None:
        check_output(output, force)
    check_guardians(guardian, setting.value)
    request = Request(
        state=state, setting=setting.value, payment=payment.value, supervisee=supervisee,
        telehealth=telehealth, profession=profession.value if profession else None,
        as_of=parse_date(as_of),
    )  # fmt: skip
    sheet = api.review_sheet(request, practice=practice, data_dirs=data_dir or ())
    text = api.render_review(sheet, out_format, data_dirs=data_dir or ())
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text, replace=force)
    pending = len(sheet.pending)
    to_stderr(f"{pending} of {len(sheet.items)} statement(s) of law need your check"
            + (f"; wrote {output} ({out_format})" if output is not None else ""),
            "yellow" if pending else "green")  # fmt: skip
    if strict and pending:
        raise typer.Exit(1)


@app.command(short_help="A self-pay client's good faith estimate of expected charges.")
@handle_errors
def gfe(
    practice: Annotated[
        Path,
        typer.Option(
            "--practice",
            "-p",
            metavar="FILE",
            help="The practice profile: its fees.services, practice.npi and practice.tin.",
        ),
    ],
    state: Annotated[
        str, typer.Option("--state", "-s", metavar="XX", help="Where the care is given.")
    ],
    client: Annotated[
        str | None, typer.Option("--client", metavar="NAME", help="The client's name.")
    ] = None,
    birth_date: Annotated[
        str | None,
        typer.Option("--birth-date", metavar="YYYY-MM-DD", help="The client's date of birth."),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            metavar="CODE[xN]",
            help="A service code from fees.services, with the expected number in the period: "
            "90837x24 (repeatable; default: one of each service).",
        ),
    ] = None,
    months: Annotated[
        int, typer.Option("--months", min=1, max=12, help="The period the estimate covers.")
    ] = 12,
    diagnosis: Annotated[
        list[str] | None,
        typer.Option("--diagnosis", metavar="CODE", help="An ICD-10-CM code (repeatable)."),
    ] = None,
    first_session: Annotated[
        str | None,
        typer.Option("--first-session", metavar="YYYY-MM-DD", help="When care is scheduled."),
    ] = None,
    fmt: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="md, html, json or pdf. Default: from -o's extension, else md.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write here (mode 0600) instead of stdout."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing -o file.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="YYYY-MM-DD", help="The date of issue (default: today)."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write the good faith estimate (No Surprises Act) a self-pay client receives before care:
    provider, NPI, TIN and office, the client, service codes and expected charges for up to 12
    months, the required disclaimers and the date of issue."""
    from consentgen import api, estimate
    from consentgen.model import Request

    out_format = output_format(output, fmt.value if fmt else None)
    if out_format not in estimate.FORMATS:
        fail(f"--format {out_format} is not one of {', '.join(estimate.FORMATS)}")
    if output is not None:
        check_output(output, force)
    elif out_format == "pdf":
        fail("PDF is a binary format; write it to a file with -o FILE")
    if client is not None and Request.name_problem(client):
        fail(f"--client holds {Request.name_problem(client)}; remove it")
    sessions: dict[str, int] = {}
    for text in service or ():
        match = re.fullmatch(r"\s*([0-9A-Za-z]{4,5})\s*(?:[xX*]\s*([0-9]{1,4}))?\s*", text)
        if not match:
            fail(f"--service {text!r}: give a code and, if more than one, the number: 90837x24")
        sessions[match.group(1).upper()] = int(match.group(2) or 1)

    document = api.good_faith_estimate(
        practice=practice, state=state, client=client,
        birth_date=parse_date(birth_date, "--birth-date"),
        sessions=sessions, months=months, diagnosis=tuple(d.upper() for d in diagnosis or ()),
        first_session=parse_date(first_session, "--first-session"), as_of=parse_date(as_of),
        data_dirs=data_dir or (),
    )  # fmt: skip
    text = api.render_estimate(document, out_format, data_dirs=data_dir or ())
    if output is None:
        sys.stdout.write(str(text))
    else:
        write_atomic(output, text, replace=force)
    if document.missing:
        to_stderr(f"warning: {len(document.missing)} profile value(s) missing, printed as blanks "
                f"to fill in: {', '.join(document.missing)}", "yellow")  # fmt: skip
    if output is not None:
        to_stderr(f"wrote {output} ({out_format})", "green")


@app.command(short_help="Write a commented practice profile to edit.")
@handle_errors
def init(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the example profile.")
    ] = Path("practice.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    prompt: Annotated[
        bool | None,
        typer.Option(
            "--prompt/--no-prompt",
            help="Ask for the practice's and clinician's details (default: only on a terminal).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a commented practice profile to edit: on a terminal, it asks a few questions first."""
    from consentgen import profile

    check_output(path, force)
    answers: dict[str, str] = {}
    supervised = False
    if prompt if prompt is not None else (sys.stdin.isatty() and sys.stdout.isatty()):
        to_stderr("Press Enter to keep the example's answer; edit the file later for the rest.")
        ended = False

        def ask(question: str, default: str | None = None, yes_no: bool = False) -> str | None:
            """An answer, or None once piped answers have run out (the example's answers are
            kept for the rest); Ctrl-C on a terminal still stops."""
            nonlocal ended
            if ended:
                return None
            try:
                if yes_no:
                    return "yes" if typer.confirm(question, default=False, err=True) else ""
                return typer.prompt(question, default=default, err=True)
            except typer.Abort:
                if sys.stdin.isatty():
                    raise
                ended = True
                return None

        for key, (question, default) in profile.QUESTIONS.items():
            answer = ask(question, default)
            while key == "profession" and answer and not profile.profession_answer(answer):
                answer = ask(f"Choose one of {', '.join(get_args(Profession))}")
            if answer is not None:
                answers[key] = answer
        supervised = bool(ask(profile.SUPERVISED_QUESTION, yes_no=True))
        if supervised:
            defaults = profile.supervision_defaults(answers)
            for key, (question, _example) in profile.SUPERVISION_QUESTIONS.items():
                answer = ask(question, defaults[key])
                if answer is not None:
                    answers[key] = answer
    write_atomic(path, profile.example(path.name, answers, supervised=supervised))
    then = f"consentgen build --state XX{' --supervisee' if supervised else ''} --practice {path}"
    to_stderr(f"wrote {path}; edit it, then: {then}", "green")


@app.command("list", short_help="List the jurisdictions, when each was reviewed, and their origin.")
@handle_errors
def list_(
    fmt: Annotated[
        ListFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="table: to read; json: for scripts."
        ),
    ] = ListFormat.table,
    data_dir: DataDirOption = None,
) -> None:
    """List the jurisdictions available, when each was last reviewed, and where it came from."""
    from consentgen import api

    rows = api.list_jurisdictions(data_dir or ())
    if fmt is ListFormat.json:
        import json

        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table("code", "name", "last reviewed", "from")
        for r in rows:  # Text: a name or folder is never read as rich markup
            table.add_row(*(Text(visible(r[k])) for k in ("code", "name", "last_reviewed",
                                                          "origin")))  # fmt: skip
        Console().print(table)
    else:
        for r in rows:
            print("\t".join(visible(r[k]) for k in ("code", "name", "last_reviewed", "origin")))


class ReportFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


_SHORT = {
    "child_abuse_reporting": "child",
    "elder_abuse_reporting": "elder",
    "duty_to_protect": "protect",
    "danger_to_self": "self",
    "minors": "minors",
    "records": "records",
    "privilege": "privilege",
    "supervision": "superv",
    "telehealth": "tele",
    "licensing_boards": "boards",
    "required_disclosures": "notices",
}
_STATUS = {
    "mandatory": "must",
    "permissive": "may",
    "none": "none",
    "unknown": "unknown",
    "present": "yes",
    "missing": "-",
    "invalid": "ERROR",
}


def _cell(cell: dict[str, object]) -> str:
    if "count" in cell:
        return f"{cell['verified']}/{cell['count']}"
    mark = "" if cell["verified"] else "?"
    return _STATUS[str(cell["status"])] + mark


@app.command(short_help="Which rules each jurisdiction has, and which are verified.")
@handle_errors
def coverage(
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="table: to read; json or csv: for scripts and spreadsheets.",
        ),
    ] = ReportFormat.table,
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show which rules each jurisdiction has and which are verified: what is left to research.

    In the table, must/may/none is the status (mandatory, permissive, none), "?" marks a rule
    not verified against its primary source, "-" a missing rule, and boards and notices count
    verified/all.
    """
    import json

    from consentgen import api

    data = api.coverage(as_of=parse_date(as_of), data_dirs=data_dir or ())
    rows = data["jurisdictions"]
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif fmt is ReportFormat.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["code", "name", "last_reviewed", "rule", "status", "verified", "count"])
        for row in rows:
            for name, cell in row["rules"].items():
                writer.writerow(
                    csv_cell(value)
                    for value in (
                        row["code"],
                        row["name"],
                        row["last_reviewed"] or "",
                        name,
                        cell.get("status", ""),
                        cell["verified"],
                        cell.get("count", ""),
                    )
                )
    else:
        _coverage_table(data)
    for row in rows:
        if "error" in row:
            to_stderr(f"error: {row['error']}", "bold red")
    if any("error" in row for row in rows):
        raise typer.Exit(1)


def _coverage_table(data: dict) -> None:
    rows = data["jurisdictions"]
    header = ["code", "reviewed", *_SHORT.values()]
    lines = [
        [visible(r["code"]), visible(r["last_reviewed"] or "ERROR"),
         *(_cell(r["rules"][n]) for n in _SHORT)]
        for r in rows
    ]  # fmt: skip
    totals = data["totals"]
    rules = [t for n, t in totals.items() if n != "licensing_boards"]
    verified = sum(t["verified"] for t in rules)
    entries = verified + sum(t["unverified"] for t in rules)
    share = f" ({100 * verified / entries:.0f}%)" if entries else ""
    summary = (
        f"{len(rows)} jurisdictions, law as of {data['as_of']}: "
        f"{verified} rule entries verified{share}, "
        f"{sum(t['unverified'] for t in rules)} unverified "
        f"({totals['variants']['verified'] + totals['variants']['unverified']} of them "
        f"profession variants), "
        f"{sum(t.get('missing', 0) for t in rules)} missing; licensing boards: "
        f"{totals['licensing_boards']['verified']} verified, "
        f"{totals['licensing_boards']['unverified']} unverified"
    )
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, caption=summary)
        for line in lines:
            table.add_row(*line)
        Console().print(table)
        return
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    for line in [header, *lines]:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
    print(summary)


@app.command(short_help="Show a state's rules on a date, with their citations.")
@handle_errors
def show(
    state: Annotated[str, typer.Argument(metavar="STATE", help="Two-letter code or state name.")],
    fmt: Annotated[
        ListFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="table: readable; json: the contract."
        ),
    ] = ListFormat.table,
    profession: ProfessionOption = None,
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show a jurisdiction's rules as they stood on a date, with their citations; with
    --profession, as they stand for that profession."""
    from consentgen import api

    data = api.show(state, as_of=parse_date(as_of), data_dirs=data_dir or (),
                    profession=profession.value if profession else None)  # fmt: skip
    if fmt is ListFormat.json:
        sys.stdout.write(json_text(data))
        return
    lines = [
        f"{data['name']} ({data['code']}), last reviewed {data['last_reviewed']}, "
        f"law as of {data['as_of']}"
        + (f", for {data['profession']}" if data["profession"] else ""),
        "",
    ]
    for name, rule in data["rules"].items():
        if rule is None:
            lines.extend([f"{name}: not in the data on this date", ""])
            continue
        if isinstance(rule, list):
            lines.append(f"{name}: {len(rule)} item(s)")
            continue
        status = f" [{rule['status']}]" if rule.get("status") else ""
        check = "" if rule["verified"] else "  (UNVERIFIED)"
        lines.append(f"{name}{status} (from {rule['from']}){check}")
        lines.append(f"  {rule['summary']}")
        lines.extend(f"  - {c['cite']}  <{c['source_url']}>" for c in rule["citations"])
        lines.append("")
    sys.stdout.write("\n".join(visible(line) for line in lines) + "\n")


@app.command(short_help="Build one document per row of a CSV or JSON Lines export.")
@handle_errors
def batch(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="CSV (UTF-8, Excel's BOM is fine; commas, semicolons or tabs; column names in "
            "any case) or JSON Lines: id, state, setting, clients (names "
            "separated by ;), and optionally payment, supervisee, "
            "telehealth, guardian, profession, as_of.",
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out-dir",
            metavar="DIR",
            help="Where the documents and manifest.json go "
            "(created, mode 0700, if its parent exists).",
        ),
    ],
    practice: Annotated[
        Path | None,
        typer.Option("--practice", "-p", metavar="FILE", help="The practice profile (YAML)."),
    ] = None,
    formats: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            "--doc-format",
            metavar="FORMATS",
            help="The documents' formats, comma-separated: md, html, txt, json, pdf, docx.",
        ),
    ] = "md",
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, metavar="N", help="Processes (default: all cores)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing documents.")] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Skip rows whose documents exist with the manifest's checksum."
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Write nothing (exit 1) when any row's document has "
            "statements of law neither verified nor reviewed; those rows are listed.",
        ),
    ] = False,
    as_of: AsOfOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Build one document per row of a scheduling system's export, in parallel.

    Files are named from each row's id, state and setting, never from a client's name.
    Exit code 0: every row built; 1: some rows failed (the others were built); 2: bad usage.
    """
    from consentgen import batching

    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    bar = _ProgressBar() if sys.stderr.isatty() else None
    try:
        result = batching.run(
            file, out_dir, practice=practice, formats=wanted or ("md",), jobs=jobs,
            force=force, resume=resume, data_dirs=tuple(data_dir or ()),
            default_as_of=parse_date(as_of), progress=bar.update if bar else None,
            strict=strict,
        )  # fmt: skip
    finally:
        if bar:
            bar.close()
    for note in result.notes:
        to_stderr(f"warning: {note}", "yellow")
    if result.unknown_columns:
        to_stderr(f"warning: unknown column(s) ignored: {', '.join(result.unknown_columns)}",
                "yellow")  # fmt: skip
    for failure in result.failed:
        to_stderr(f"error: {file}:{failure}", "red")  # line, id and column; never a field's value
    from consentgen.manifest import MANIFEST

    to_stderr(f"{len(result.written)} document(s) written, {len(result.skipped)} skipped "
            f"(already there), {len(result.failed)} row(s) failed; manifest: "
            f"{out_dir / MANIFEST}", "bold red" if result.failed else "green")  # fmt: skip
    if result.failed:
        raise typer.Exit(1)


class _ProgressBar:
    """A rich progress bar on stderr, for terminals only."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self.progress = Progress(transient=True, console=_console())
        self.progress.start()
        self.task = self.progress.add_task("building", total=None)

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        self.progress.stop()


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class DiffFormat(enum.StrEnum):
    auto = "auto"
    rich = "rich"
    diff = "diff"
    json = "json"


@app.command(short_help="What a client's document says differently between two dates.")
@handle_errors
def diff(
    state: Annotated[str, typer.Option("--state", "-s", metavar="XX", help="State code or name.")],
    start: Annotated[
        str,
        typer.Option(
            "--from", metavar="YYYY-MM-DD", help="The earlier date (e.g. when a client signed)."
        ),
    ],
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="The later date (default: today)."),
    ] = None,
    setting: SettingOption = SettingChoice.individual,
    payment: PaymentOption = PaymentChoice.insurance,
    supervisee: SuperviseeOption = False,
    telehealth: TelehealthOption = False,
    profession: ProfessionOption = None,
    practice: Annotated[
        Path | None,
        typer.Option(
            "--practice", "-p", metavar="FILE", help="The practice profile (YAML), as for build."
        ),
    ] = None,
    fmt: Annotated[
        DiffFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="rich (terminal), diff (unified), json; auto: rich on a terminal, else diff.",
        ),
    ] = DiffFormat.auto,
    data_dir: DataDirOption = None,
) -> None:
    """What a client's document says differently between two dates, and which rules changed.

    Exit code 0: no difference; 1: the documents differ (as diff(1)); 2: bad usage.
    """
    from consentgen.changes import diff_text, document_diff
    from consentgen.model import Request

    first = parse_date(start)
    last = parse_date(end) or dt.date.today()
    request = Request(state=state, setting=setting.value, payment=payment.value,
                      supervisee=supervisee, telehealth=telehealth,
                      profession=profession.value if profession else None)  # fmt: skip
    data = document_diff(request, first, last, practice=practice,  # type: ignore[arg-type]
                         data_dirs=tuple(data_dir or ()))  # fmt: skip
    chosen = fmt
    if chosen is DiffFormat.auto:
        chosen = DiffFormat.rich if sys.stdout.isatty() else DiffFormat.diff
    if chosen is DiffFormat.json:
        sys.stdout.write(json_text(data))
    elif chosen is DiffFormat.diff:
        sys.stdout.write(diff_text(data))
    else:
        _diff_rich(data)
    if data["sections"]:
        raise typer.Exit(1)


def _diff_rich(data: dict) -> None:
    from rich.console import Console
    from rich.text import Text

    from consentgen.changes import rule_line

    console = Console(highlight=False)
    console.print(f"[bold]{data['state']} {data['setting']}[/]: {len(data['sections'])} "
                  f"section(s) differ between {data['from']} and {data['to']}")  # fmt: skip
    for section in data["sections"]:
        console.rule(Text(visible(f"{section['title']} ({section['change']})")))
        for rule in section["rules"]:
            console.print(Text(visible(rule_line(rule)), style="cyan"))
        for line in section["diff"].splitlines()[2:]:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(Text(visible(line), style=style))


@app.command(short_help="Which documents of a batch now need re-consent, and why.")
@handle_errors
def recheck(
    manifest: Annotated[Path, typer.Argument(metavar="MANIFEST", help="A batch's manifest.json.")],
    as_of: AsOfOption = None,
    practice: Annotated[
        Path | None,
        typer.Option(
            "--practice",
            "-p",
            metavar="FILE",
            help="The practice profile the batch used (needed if it used one).",
        ),
    ] = None,
    batch_file: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            metavar="FILE",
            help="The batch's CSV/JSONL: also write the new documents beside the old ones.",
        ),
    ] = None,
    formats: Annotated[
        str,
        typer.Option(
            "--doc-format",
            metavar="FORMATS",
            help="With --batch: the new documents' formats, comma-separated (as batch -f).",
        ),
    ] = "md",
    formats_old: Annotated[
        str | None, typer.Option("--format-docs", hidden=True, help="Old name of --doc-format.")
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="The report: table to read; json or csv for scripts.",
        ),
    ] = ReportFormat.table,
    data_dir: DataDirOption = None,
) -> None:
    """Which documents of a batch would now say something different, and why.

    Rebuilds each document with today's data and templates (or --as-of), compares each section
    with the checksums in the manifest, and names the rules and effective dates behind each
    change. No client names are needed or shown. Exit code 1 when any document needs re-consent
    or could not be checked (status error or unknown: listed in every format, never skipped).
    """
    from consentgen.changes import recheck_manifest, recheck_text

    when = parse_date(as_of) or dt.date.today()
    formats = formats_old if formats_old is not None else formats
    report = recheck_manifest(manifest, as_of=when, practice=practice,
                              data_dirs=tuple(data_dir or ()))  # fmt: skip
    for warning in report["warnings"]:
        to_stderr(f"warning: {warning}", "yellow")
    rows = report["documents"]
    sys.stdout.write(recheck_text(report, fmt.value))
    if batch_file is not None and report["needing_reconsent"]:
        from consentgen import batching

        changed = {row["id"] for row in rows if row["status"] == "changed"}
        wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip()) or ("md",)
        result = batching.run(batch_file, manifest.parent, practice=practice, formats=wanted,
                              data_dirs=tuple(data_dir or ()),
                              rebuild=batching.Rebuild(frozenset(changed), when))  # fmt: skip
        for note in result.notes:
            to_stderr(f"warning: {note}", "yellow")
        for failure in result.failed:
            to_stderr(f"error: {batch_file}:{failure}", "red")
        to_stderr(f"wrote {len(result.written)} new document(s) beside the old ones in "
                f"{manifest.parent}", "green")  # fmt: skip
    if report["needing_reconsent"] or report["not_checked"]:
        raise typer.Exit(1)


@app.command(short_help="The law's changelog: rules that changed since a date.")
@handle_errors
def changes(
    since: Annotated[
        str,
        typer.Option("--since", metavar="YYYY-MM-DD", help="List changes on or after this date."),
    ],
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            "-s",
            metavar="XX",
            help="Only this state's changes and the federal ones (US: federal only).",
        ),
    ] = None,
    fmt: Annotated[
        ListFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="table: to read; json: for scripts."
        ),
    ] = ListFormat.table,
    as_of: TodayOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The law's changelog, from the data: every rule that took effect, is staged to take effect,
    or had its facts corrected since a date, with its citations."""
    from consentgen.changes import law_changes

    found = law_changes(parse_date(since, "--since"), state=state,  # type: ignore[arg-type]
                        data_dirs=tuple(data_dir or ()), today=parse_date(as_of))  # fmt: skip
    if fmt is ListFormat.json:
        sys.stdout.write(json_text(found))
        return
    for change in found:
        cites = "; ".join(c["cite"] for c in change["citations"])
        status = f" [{change['status']}]" if change.get("status") else ""
        where = f"{change['state']} (federal)" if change.get("federal") else change["state"]
        print(visible(f"{change['date']}  {where}  {change['rule']}{status}  "
                      f"{change['change']}  {cites}"))  # fmt: skip
    print(f"{len(found)} change(s) since {visible(since)}")


class LintFormat(enum.StrEnum):
    text = "text"
    json = "json"
    github = "github"


@app.command(short_help="Check jurisdiction files, practice profiles and templates.")
@handle_errors
def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Files or folders: jurisdiction files, profiles, template folders. "
            "Default: the built-in data and templates, plus --data-dir.",
        ),
    ] = None,
    fmt: Annotated[
        LintFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text: path:line:col lines; json; github: annotations for GitHub Actions.",
        ),
    ] = LintFormat.text,
    strict: Annotated[
        bool | None,
        typer.Option("--strict/--no-strict", help="Warnings fail too.", show_default=False),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            metavar="IDS", help="Only these rules (ids, names or id prefixes, comma-separated)."
        ),
    ] = None,
    ignore: Annotated[str | None, typer.Option(metavar="IDS", help="Skip these rules.")] = None,
    max_age: Annotated[
        int | None,
        typer.Option(
            "--max-age",
            metavar="DAYS",
            min=0,
            help="Warn when a file's last_reviewed is older (default 365).",
        ),
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List every rule and exit.")
    ] = False,
    as_of: TodayOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check jurisdiction files, practice profiles and templates; every problem in one run.

    Exit code 0: no errors; 1: errors (or warnings with --strict); 2: bad usage.
    Settings come from [tool.consentgen.lint] in pyproject.toml or `lint:` in .consentgen.yaml.
    """
    from consentgen import lint as linting

    if list_rules:
        for rule in linting.RULES:
            print(f"{rule.id}  {rule.name:22s} {rule.severity:8s} {rule.summary}")
        return
    config = linting.settings(select=select, ignore=ignore, max_age=max_age, strict=strict,
                              today=parse_date(as_of))  # fmt: skip
    problems = linting.lint_paths(list(paths or []), data_dirs=list(data_dir or []), config=config)
    sys.stdout.write(linting.report(problems, fmt.value))
    if fmt is LintFormat.text:
        counts = {
            s: sum(1 for p in problems if p.severity == s) for s in ("error", "warning", "info")
        }
        to_stderr(
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info",
            "bold red" if counts["error"] else None,
        )
    code = linting.exit_code(problems, config.strict)
    if code:
        raise typer.Exit(code)


class SchemaKind(enum.StrEnum):
    jurisdiction = "jurisdiction"
    practice = "practice"
    document = "document"
    estimate = "estimate"


@app.command(short_help="Print the JSON Schema of jurisdiction files or of the profile.")
@handle_errors
def schema(
    kind: Annotated[
        SchemaKind,
        typer.Argument(
            metavar="KIND",
            help="jurisdiction or practice (files consentgen reads); "
            "document or estimate (the JSON it writes).",
        ),
    ] = SchemaKind.jurisdiction,
) -> None:
    """Print the JSON Schema of jurisdiction files, the practice profile, a document's JSON or a
    good faith estimate's JSON."""
    import json

    from consentgen import api

    sys.stdout.write(json.dumps(api.json_schema(kind.value), indent=2) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
