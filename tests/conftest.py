from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from typer.testing import CliRunner

from consentgen.cli import app

TESTS = Path(__file__).parent
ROOT = TESTS.parent
PROFILE = TESTS / "fixtures" / "practice.yaml"
GOLDEN = TESTS / "golden"
AS_OF = "2026-11-25"
# The states every quick run checks in a test over all jurisdictions: notices in the law's own
# words (CA, OR), profession variants (NY), the whole-form notices (CO, TX), telehealth rules
# (WA). Every other state is a slow case (`pytest -m slow`, run by .ci/run).
QUICK_STATES = ("CA", "CO", "NY", "OR", "TX", "WA")


def state_cases(states: list[str]) -> list[Any]:
    """`states` as parameters: the QUICK_STATES as they are, the others marked slow."""
    return [s if s in QUICK_STATES else pytest.param(s, marks=pytest.mark.slow) for s in states]


# The head of a made-up jurisdiction file, for tests that write one.
ZEDLAND = "code: ZZ\nname: Zedland\nlast_reviewed: 2026-11-01\nrules:\n"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ files")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# Files --update-golden rewrote in this run. The run then fails and lists them, so an update is
# always seen and read before it is committed; a second run passes.
REWRITTEN: list[str] = []


def write_golden(path: Path, text: str) -> None:
    """Rewrite a golden file (a document, a schema, a README table) when its text differs."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old != text:
        path.write_text(text, encoding="utf-8")
        REWRITTEN.append(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path))


def generated_block(path: Path, start: str, end: str, wanted: str, update: bool) -> str:
    """The text between the markers `start` and `end` in `path` (a table generated from the code);
    with --update-golden, rewritten to `wanted` when it differs."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    block, tail = rest.split(end, 1)
    if update and block != wanted:
        write_golden(path, head + start + wanted + end + tail)
        return wanted
    return block


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if REWRITTEN:
        terminalreporter.section("--update-golden rewrote these files: read the diff, then commit")
        for name in REWRITTEN:
            terminalreporter.write_line(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: its controller reports and fails
        workeroutput["rewritten"] = REWRITTEN
    elif REWRITTEN and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    REWRITTEN.extend(getattr(node, "workeroutput", {}).get("rewritten", ()))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    # --update-golden rewrites files that two tests share (README.md's two tables): one process.
    return 0 if config.getoption("--update-golden") else None


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.delenv("CONSENTGEN_PATH", raising=False)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def new_process() -> None:
    """Nothing validated or derived in this process's memory yet, as in a new process: for tests
    of what the cache on disk holds or serves. (The memory is keyed on the files' contents, so the
    other tests share it, as one long-lived process would.)"""
    from consentgen import jurisdictions, profile

    jurisdictions._validated.clear()
    profile._example_values.cache_clear()


# Typer's CliRunner builds the Click command from the app on every invoke (about 10 ms); a real
# run builds it once a process, so the tests build it once a session.
typer.testing._get_command = functools.cache(typer.testing._get_command)


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | Path):
        # catch_exceptions=False: an uncaught exception (a traceback) fails the test by itself.
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()
