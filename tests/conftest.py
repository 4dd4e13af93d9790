from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
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
    if REWRITTEN and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.delenv("CONSENTGEN_PATH", raising=False)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    # Each test starts as a new process would: nothing validated or derived in memory yet.
    from consentgen import jurisdictions, profile

    jurisdictions._validated.clear()
    profile._example_values.cache_clear()


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | Path):
        # catch_exceptions=False: an uncaught exception (a traceback) fails the test by itself.
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()
