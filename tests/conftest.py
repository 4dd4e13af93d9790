from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentgen.cli import app

TESTS = Path(__file__).parent
ROOT = TESTS.parent
PROFILE = TESTS / "fixtures" / "practice.yaml"
GOLDEN = TESTS / "golden"
AS_OF = "2026-11-25"
# The head of a made-up jurisdiction file, for tests that write one.
ZEDLAND = "code: ZZ\nname: Zedland\nlast_reviewed: 2026-11-01\nrules:\n"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ files")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


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
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()
