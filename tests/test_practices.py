"""Realistic practices, each a whole document read against its sources: associates and licensees
of the four professions, every setting (a minor inside a family), telehealth-only, self-pay with
its good faith estimate, a practice HIPAA does not cover, a Part 2 program.

Each document is a golden file (tests/golden/practices/), has no blank left to fill, tells what
the clinician's ethics code asks, and its profile passes lint without a CG502 warning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import GOLDEN, TESTS, write_golden
from consentgen import standards
from consentgen.api import build_document, prepare_law, render
from consentgen.lint import lint_paths
from consentgen.model import Request

PRACTICES = TESTS / "fixtures" / "practices"
AS_OF = "2026-11-27"
# (profile, state, setting, options, clients, guardians)
CASES = [
    ("ca_associate_mft", "CA", "couples", ("--supervisee",), ["Alex Doe", "Sam Roe"], []),
    ("co_lpc_selfpay", "CO", "individual", ("--payment", "self-pay"), ["Jamie Cruz"], []),
    ("tx_lpc_associate", "TX", "family", ("--supervisee",), ["Ana Diaz", "Luis Diaz", "Mia Diaz"],
     ["Ana Diaz"]),
    ("ny_lmsw_group", "NY", "group", ("--supervisee",), ["Robin Hale"], []),
    ("wa_lmhc_telehealth", "WA", "individual", (), ["Drew Lane"], []),
    ("fl_provisional_psychologist", "FL", "minor", ("--supervisee", "--payment", "self-pay"),
     ["Jesse Moore"], ["Kelly Moore"]),
    ("il_part2_lcsw", "IL", "individual", (), ["Quinn Baker"], []),
    ("or_lmft", "OR", "individual", (), ["Sky Reed"], []),
    ("ca_psychologist", "CA", "individual", ("--payment", "self-pay", "--telehealth"),
     ["Jamie Fox"], []),
]  # fmt: skip
ESTIMATES = [
    ("co_lpc_selfpay", "CO", ("--client", "Jamie Cruz", "--birth-date", "1991-03-14",
                              "--service", "90791", "--service", "90837x23",
                              "--diagnosis", "F41.1", "--first-session", "2026-12-02")),
    ("ca_psychologist", "CA", ("--client", "Jamie Fox", "--service", "90837x12", "--months", "3")),
]  # fmt: skip


def _golden(name: str, update: bool, text: str) -> None:
    golden = GOLDEN / "practices" / name
    if update or not golden.exists():
        write_golden(golden, text)
        if not update:
            pytest.fail(f"{golden.name} was missing and has been written; review and commit it")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(("profile", "state", "setting", "options", "clients", "guardians"), CASES)
def test_practice_document(cli, update_golden, profile, state, setting, options, clients,
                           guardians):  # fmt: skip
    path = PRACTICES / f"{profile}.yaml"
    args = ["build", "--state", state, "--setting", setting, "--practice", path, "--as-of", AS_OF]
    for name in clients:
        args += ["--client", name]
    for name in guardians:
        args += ["--guardian", name]
    result = cli(*args, *options)
    assert result.exit_code == 0, result.stderr
    assert "profile value(s) missing" not in result.stderr, result.stderr
    _golden(f"{profile}.md", update_golden, result.stdout)


@pytest.mark.parametrize(("profile", "state", "setting", "options", "clients", "guardians"), CASES)
def test_practice_meets_its_code_and_its_profile_lints_clean(profile, state, setting, options,
                                                             clients, guardians):  # fmt: skip
    path = PRACTICES / f"{profile}.yaml"
    flags = {"supervisee": "--supervisee" in options, "telehealth": "--telehealth" in options,
             "payment": "self-pay" if "self-pay" in options else "insurance"}  # fmt: skip
    as_of = dt.date.fromisoformat(AS_OF)
    request = Request(state=state, setting=setting, clients=tuple(clients),
                      guardians=tuple(guardians), as_of=as_of, **flags)  # fmt: skip
    document = build_document(request, practice=path)
    law, _, _ = prepare_law(state, request.as_of)
    profession = document.options["profession"] or _profession(path)
    wanted = standards.requirements(law.ethics_codes, profession, request)
    assert standards.missing(document, wanted) == []
    problems = [p for p in lint_paths([path]) if p.severity != "info"]
    assert problems == [], [str(p) for p in problems]


def _profession(path: Path) -> str:
    import yaml

    return yaml.safe_load(path.read_text())["clinician"]["profession"]


@pytest.mark.parametrize(("profile", "state", "args"), ESTIMATES)
def test_good_faith_estimate(cli, update_golden, tmp_path, profile, state, args):
    path = PRACTICES / f"{profile}.yaml"
    result = cli("gfe", "--practice", path, "--state", state, "--as-of", AS_OF, *args)
    assert result.exit_code == 0, result.stderr
    assert "missing" not in result.stderr
    _golden(f"{profile}_gfe.md", update_golden, result.stdout)
    out = tmp_path / "estimate.json"
    assert cli("gfe", "--practice", path, "--state", state, "--as-of", AS_OF, *args,
               "-o", out).exit_code == 0  # fmt: skip
    assert out.stat().st_mode & 0o077 == 0


def test_no_practice_golden_is_left_over():
    expected = {f"{c[0]}.md" for c in CASES} | {f"{e[0]}_gfe.md" for e in ESTIMATES}
    assert {p.name for p in (GOLDEN / "practices").glob("*.md")} == expected


@pytest.mark.parametrize("state", ["CA", "IL", "NY", "TX", "FL"])
def test_a_part2_program_never_says_payers_get_records_without_consent(state):
    """42 CFR Part 2: disclosures to a payer need the client's written consent."""
    request = Request(state=state, as_of=dt.date.fromisoformat(AS_OF))
    text = render(build_document(request, practice=PRACTICES / "il_part2_lcsw.yaml"), "md")
    insurance = text.split("## Insurance and managed care", 1)[1].split("\n## ", 1)[0]
    assert "unless you first give your written consent" in insurance
    assert "I must give your insurer" not in text
    assert "## Federal protection of substance use records" in text


@pytest.mark.parametrize("state", ["CA", "CO", "NY", "TX", "WA"])
def test_a_practice_hipaa_does_not_cover_gives_no_privacy_notice(state):
    request = Request(state=state, payment="self-pay", as_of=dt.date.fromisoformat(AS_OF))
    document = build_document(request, practice=PRACTICES / "co_lpc_selfpay.yaml")
    text = render(document, "md")
    assert "Notice of Privacy Practices" not in text
    assert "HIPAA, the federal health privacy law, does not apply to my practice" in text
    assert not [c.cite for s in document.sections for c in s.citations if "164." in c.cite]
    assert document.office_record == ()
