"""The `consentgen` command: the console script and `python -m consentgen`.

A plain build goes straight to `commands.build`, without importing the command-line parser
(Typer, and the Click it vendors), which is about a fifth of a cold build's time. Plain means:
`build`, then only options `_build_options` lists, each given once as `--option VALUE`,
`--option=VALUE` or `-x VALUE`, each value one the option takes as it is (a choice written as
listed, a path Typer would not refuse, nothing empty or starting with `-`), and `--state` among
them. Everything else (help, any other command, a value Typer would convert, complete or refuse)
goes to the Typer app (typer_app.py), which owns every message about usage. tests/test_launch.py
holds this table equal to Typer's options for build, and what both hand `commands.build` equal.
"""

import os
import stat
import sys
from pathlib import Path
from typing import get_args

# How an option's value is taken.
TEXT, TEXTS, FLAG, PATH, FOLDERS = "text", "texts", "flag", "path", "folders"


def _build_options() -> dict[str, tuple[str, str | tuple[str, ...]]]:
    """Each way of writing an option of `consentgen build`: its parameter in `commands.build`,
    and what it takes (a kind above, or the choices it accepts)."""
    from consentgen.cli.commands import FORMATS
    from consentgen.model import Payment, Profession, Setting

    options: dict[str, tuple[str, str | tuple[str, ...]]] = {}
    for names, parameter, takes in (
        (("--state", "-s"), "state", TEXT),
        (("--setting",), "setting", get_args(Setting)),
        (("--payment",), "payment", get_args(Payment)),
        (("--supervisee",), "supervisee", FLAG),
        (("--telehealth",), "telehealth", FLAG),
        (("--profession",), "profession", get_args(Profession)),
        (("--client",), "client", TEXTS),
        (("--guardian",), "guardian", TEXTS),
        (("--practice", "-p"), "practice", PATH),
        (("--format", "-f"), "fmt", FORMATS),
        (("--output", "-o"), "output", PATH),
        (("--force",), "force", FLAG),
        (("--strict",), "strict", FLAG),
        (("--as-of",), "as_of", TEXT),
        (("--data-dir",), "data_dir", FOLDERS),
    ):
        options.update(dict.fromkeys(names, (parameter, takes)))
    return options


def plain_build(args: list[str]) -> dict[str, object] | None:
    """The keyword arguments `commands.build` takes for `consentgen ARGS`, if ARGS are a plain
    build; None when Typer is to parse them."""
    if args[:1] != ["build"] or any(
        name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ
    ):  # shell completion asks through the environment
        return None
    options = _build_options()
    values: dict[str, object] = {}
    rest = iter(args[1:])
    for token in rest:
        name, equals, attached = token.partition("=") if token.startswith("--") else (token, "", "")
        if name not in options:
            return None
        parameter, takes = options[name]
        if takes == FLAG:
            if equals or parameter in values:
                return None
            values[parameter] = True
            continue
        value = attached if equals else next(rest, None)
        if not value or value.startswith("-"):
            return None
        if takes in (TEXTS, FOLDERS):
            taken = _path(value, folder=True) if takes == FOLDERS else value
            if taken is None:
                return None
            values.setdefault(parameter, []).append(taken)  # type: ignore[union-attr]
            continue
        if parameter in values:  # Click keeps the last: leave that to it
            return None
        if isinstance(takes, tuple):
            if value not in takes:  # another case, or no choice: Typer's to convert or refuse
                return None
            values[parameter] = value
        elif takes == PATH:
            values[parameter] = _path(value, folder=False)
            if values[parameter] is None:
                return None
        else:
            values[parameter] = value
    return values if "state" in values else None


def _path(value: str, *, folder: bool) -> Path | None:
    """The path as Typer gives it (it refuses a path that exists but cannot be read, and a file
    where a folder is asked for), or None."""
    try:
        status = os.stat(value)
    except OSError:
        return Path(value)
    except ValueError:  # a NUL in the path
        return None
    if (folder and stat.S_ISREG(status.st_mode)) or not os.access(value, os.R_OK):
        return None
    return Path(value)


def main() -> None:
    options = plain_build(sys.argv[1:])
    if options is None:
        from consentgen.cli.typer_app import main as parse_and_run  # every other command line

        parse_and_run()
        return
    from consentgen.cli import commands

    try:
        commands.build(**options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        sys.exit(130)  # as Typer: no traceback
    except BrokenPipeError:
        # The reader went away (`| head`): exit 1 quietly, as Typer does; point stdout at
        # /dev/null so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
