"""A plain `consentgen build` skips the command-line parser (launch.py): what it hands the build
must be what Typer would have handed it, for every command line it takes, and it must leave to
Typer every command line it cannot take exactly."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click import types as click_types
from typer._types import TyperChoice
from typer.models import TyperPath
from typer.testing import CliRunner

from consentgen.cli import commands, launch, typer_app

BUILD = typer.main.get_command(typer_app.app).commands["build"]  # type: ignore[attr-defined]


def _kind(param) -> str | tuple[str, ...]:  # type: ignore[no-untyped-def]
    kind = param.type
    if param.is_flag:
        return launch.FLAG
    if isinstance(kind, TyperChoice):
        return tuple(kind.choices)
    if isinstance(kind, TyperPath):
        assert (kind.exists, kind.dir_okay, kind.readable, kind.writable, kind.allow_dash,
                kind.resolve_path) == (False, True, True, False, False, False)  # fmt: skip
        if param.multiple:
            assert not kind.file_okay
            return launch.FOLDERS
        assert kind.file_okay
        return launch.PATH
    assert isinstance(kind, click_types.StringParamType)
    return launch.TEXTS if param.multiple else launch.TEXT


def test_the_table_is_typers_own_options_for_build() -> None:
    typers: dict[str, tuple[str, str | tuple[str, ...]]] = {}
    for param in BUILD.params:
        assert not param.secondary_opts and param.envvar is None and param.callback is None
        assert param.nargs == 1 and not param.is_eager
        assert param.required == (param.name == "state")  # the one launch insists on
        typers.update(dict.fromkeys(param.opts, (param.name, _kind(param))))
    assert launch._build_options() == typers
    # Every option reaches commands.build under its own name.
    assert set(inspect.signature(commands.build).parameters) == {p.name for p in BUILD.params}


def _handed(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object] | None:
    """What Typer's parse of `consentgen ARGV` hands commands.build (all its arguments), or None
    when it refuses the line."""
    seen: list[dict[str, object]] = []
    with monkeypatch.context() as patch:
        patch.setattr(commands, "build", lambda **given: seen.append(given))
        result = CliRunner().invoke(typer_app.app, argv)
    if not seen:
        assert result.exit_code != 0, result.output
        return None
    return _all_arguments(seen[0])


def _all_arguments(given: dict[str, object]) -> dict[str, object]:
    bound = inspect.signature(commands.build).bind(**given)
    bound.apply_defaults()
    return {name: tuple(v) if isinstance(v, list) else v for name, v in bound.arguments.items()}


PLAIN = [
    ["build", "--state", "CA"],
    ["build", "-s", "ny", "--setting", "minor", "--client", "Ana", "--guardian", "Bo Li"],
    ["build", "--state=Texas", "--payment=self-pay", "--supervisee", "--telehealth", "--force"],
    ["build", "--state", "CA", "--client", "A", "--client", "B", "-o", "out.md", "--strict"],
    ["build", "--state", "CA", "--profession", "social-worker", "-f", "html", "--as-of",
     "2026-01-31", "--data-dir", "here", "--data-dir", "there", "-p", "practice.yaml"],
]  # fmt: skip


@pytest.mark.parametrize("argv", PLAIN, ids=lambda argv: " ".join(argv[1:4]))
def test_a_plain_build_skips_typer_and_hands_the_build_what_typer_would(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    fast = launch.plain_build(argv)
    assert fast is not None
    assert _all_arguments(fast) == _handed(argv, monkeypatch)


NOT_PLAIN = [
    [],
    ["--version"],
    ["review", "--state", "CA"],
    ["build"],  # no --state: Typer says what is missing
    ["build", "--state", "CA", "-h"],
    ["build", "--state", "CA", "--setting", "Couples"],  # Typer takes any case
    ["build", "--state", "CA", "--setting", "pairs"],
    ["build", "--state", "CA", "--state", "NY"],  # Click keeps the last
    ["build", "--state", "CA", "--force", "--force"],
    ["build", "--state", "CA", "--force=yes"],
    ["build", "-sCA"],
    ["build", "--state", "CA", "-o"],
    ["build", "--state", "CA", "-o", ""],
    ["build", "--state", "CA", "--client", "-x"],
    ["build", "--state", "CA", "--", "extra"],
    ["build", "--state", "CA", "extra"],
    ["build", "--state", "CA", "--stat", "x"],
]


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert launch.plain_build(argv) is None


def test_a_path_typer_would_refuse_is_left_to_it(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert launch.plain_build(["build", "-s", "CA", "--data-dir", str(a_file)]) is None
    assert launch.plain_build(["build", "-s", "CA", "--data-dir", str(tmp_path)]) is not None
    a_file.chmod(0)
    if os.access(a_file, os.R_OK):
        pytest.skip("this user (root) reads any file")
    assert launch.plain_build(["build", "-s", "CA", "-p", str(a_file)]) is None


def test_shell_completion_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_CONSENTGEN_COMPLETE", "bash_complete")
    assert launch.plain_build(["build", "--state", "CA"]) is None


OPTIONS = launch._build_options()
VALUES = ["CA", "ny", "Texas", "Couples", "HTML", "out.md", "here", "2026-01-31", "x=y", "a b", "",
          "-", "-v", "--force"]  # fmt: skip


@st.composite
def _command_lines(draw: st.DrawFn) -> list[str]:
    """Mostly plain builds: options from the table with values they take, or nearly do."""
    groups = [[draw(st.sampled_from(["--state", "-s"])), draw(st.sampled_from(VALUES[:3]))]]
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from([*sorted(OPTIONS), "--help", "--", "extra"]))
        takes = OPTIONS.get(name, ("", launch.FLAG))[1]
        if takes == launch.FLAG:
            groups.append([name])
            continue
        valid = list(takes) if isinstance(takes, tuple) else VALUES[:8]
        value = draw(st.sampled_from(valid) | st.sampled_from(VALUES))
        joined = name.startswith("--") and draw(st.booleans())
        groups.append([f"{name}={value}"] if joined else [name, value])
    return ["build", *(token for group in draw(st.permutations(groups)) for token in group)]


@settings(max_examples=150, deadline=None)
@given(argv=_command_lines())
def test_any_command_line_launch_takes_is_parsed_as_typer_parses_it(argv: list[str]) -> None:
    fast = launch.plain_build(argv)
    if fast is None:
        return
    with pytest.MonkeyPatch.context() as patch:
        assert _all_arguments(fast) == _handed(argv, patch)


def test_a_plain_build_does_not_import_the_parser(tmp_path: Path) -> None:
    program = ("import sys\nfrom consentgen.cli import launch\nsys.argv = ['consentgen', 'build', "
               "'--state', 'CA', '-o', 'c.md']\nlaunch.main()\n"
               "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click')))"
               )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
    assert (tmp_path / "c.md").read_text().startswith("# Informed Consent")


SAME = [
    ["build", "--state", "CA", "--setting", "couples", "--as-of", "2026-11-25"],
    ["build", "--state", "ZZ"],
    ["build", "--state", "CA", "-f", "pdf"],
    ["build", "--state", "CA", "--guardian", "Bo"],
    ["build", "--state", "CA", "--as-of", "2026-13-01"],
    ["build", "--state", "CA", "--client", "A\x01B"],
    ["build", "--state", "CA", "--practice", "missing.yaml"],
    ["build", "--state", "CA", "--strict", "--as-of", "2026-11-25"],
    ["build", "--state", "CA", "-o", "consent.unknown"],
    ["build", "--state", "CA", "-o", "taken.md"],
    ["build", "--state", "CA", "-o", "new.md", "--as-of", "2026-11-25"],
]


@pytest.mark.slow  # two processes a case: run in CI (.ci/run: pytest -m slow)
@pytest.mark.parametrize("argv", SAME, ids=lambda argv: " ".join(argv[1:]))
def test_the_program_says_and_writes_what_the_typer_app_does(argv, tmp_path: Path) -> None:
    results = []
    for module in ("consentgen", "consentgen.cli"):  # launch.py, and the Typer app alone
        folder = tmp_path / module
        folder.mkdir()
        (folder / "taken.md").write_text("mine")
        done = subprocess.run([sys.executable, "-m", module, *argv], cwd=folder, timeout=60,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        written = {p.name: p.read_text() for p in folder.iterdir()}
        results.append((done.returncode, done.stdout, done.stderr, written))
    assert results[0] == results[1]
    assert "Traceback" not in results[0][2]
