"""Every command the README shows is run: its first screen from a fresh clone (slow, run by CI),
and every `consentgen` command and Python example in the order a reader meets them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, generated_block

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


# Like diff(1), `consentgen diff` exits 1 when the two dates' documents differ (they do here).
EXIT_CODES = {"diff": 1}


def _blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def _command_lines(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.strip() and not line.startswith("#")]


def first_screen() -> tuple[str, str]:
    install_and_build, install_and_test = _command_lines(_blocks("sh")[0])
    return install_and_build, install_and_test


def consentgen_commands() -> list[list[str]]:
    """Every `consentgen ...` command in the README's sh blocks and workflow snippets, in order."""
    commands = []
    for lang, body in BLOCK.findall(README):
        for line in body.splitlines():
            text = line.strip().removeprefix("- run:").strip()
            if lang in ("sh", "yaml") and text.startswith("consentgen "):
                commands.append(shlex.split(text, comments=True))
    return commands


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    _build, test = first_screen()
    assert test in ci  # exactly the README's test command
    assert "pytest -m slow" in ci  # which runs the first screen from a fresh clone


def test_the_readme_shows_every_install_command_it_needs():
    """The install lines are the ones that work from a checkout; the published names appear only
    as what will work once consentgen is on PyPI."""
    for body in _blocks("sh") + _blocks("yaml"):
        for line in body.splitlines():
            if "pip install" in line and "consentgen[" in line:
                pytest.fail(f"README installs from an index that does not have it: {line}")
    assert "pip install '.[pdf,docx]'" in README


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_every_consentgen_command_and_example_in_the_readme_runs(tmp_path):
    commands = consentgen_commands()
    assert len(commands) > 20
    (tmp_path / "clients.csv").write_text(_blocks("csv")[0])
    (tmp_path / "my-data").mkdir()
    env = {**os.environ}
    for argv in commands:
        done = subprocess.run([sys.executable, "-m", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == EXIT_CODES.get(argv[1], 0), (argv, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, argv
    for example in _blocks("python"):
        done = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, (example, done.stderr[-2000:])
    assert (tmp_path / "alex.html").is_file() and (tmp_path / "signed" / "manifest.json").is_file()
    assert list((tmp_path / "ehr-import").glob("*.pdf"))


@pytest.mark.slow
def test_first_screen_commands_work_in_a_fresh_clone(tmp_path):
    """What a newcomer does: clone, then each of the two commands (needs the package index)."""
    clone = tmp_path / "consentgen"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSENTGEN_", "VIRTUAL_ENV"))}
    for command in first_screen():
        done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    assert Path(clone / "consent.html").read_text().startswith("<!DOCTYPE html>")


DISCLOSURES_START, DISCLOSURES_END = "<!-- disclosures:start -->\n", "<!-- disclosures:end -->"


def test_readme_disclosure_table_is_the_datas(update_golden):
    from consentgen.api import disclosures_markdown

    wanted = disclosures_markdown()
    block = generated_block(ROOT / "README.md", DISCLOSURES_START, DISCLOSURES_END, wanted,
                            update_golden)  # fmt: skip
    assert block == wanted, (
        "README.md's disclosure table is out of date; run: pytest "
        "tests/test_readme.py -k disclosures --update-golden"
    )
    assert "| CA |" in block and "*exact words*" in block
