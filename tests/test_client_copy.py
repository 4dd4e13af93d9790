"""The client's copy holds only what the client should read, by construction: templates see the
law through client views (model.client_view), so a summary, a note, a source or a verification
flag cannot reach a document; and the documents keep within their length budgets."""

from __future__ import annotations

import statistics

import pytest

from conftest import PROFILE, ROOT, state_cases
from consentgen import model
from consentgen.api import build_document, render
from consentgen.errors import UserError
from consentgen.model import Request

STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
SETTINGS = ("individual", "couples", "family", "group", "minor")
OPTIONS = ({}, {"supervisee": True, "telehealth": True, "payment": "self-pay"})
PROFESSIONS = (None, "psychologist", "counselor", "social-worker", "mft")
# Budgets in words before the signatures (WRITING.md): an adult individual form at most 3,000,
# couples, family, group and a minor's at most 3,500.
BUDGET = {"individual": 3000, "couples": 3500, "family": 3500, "group": 3500, "minor": 3500}
# A floor, not the test: the structure below is what keeps such words out.
FORBIDDEN = ("your therapist", "the therapist", "therapists must", "the clinician", "ask your",
             "not confirmed", "unverified", "was found", "we found", "check before use",
             "for the therapist", "consentgen's data")  # fmt: skip
NEVER_CLIENT = {"summary", "notes", "citations", "verified", "source_url", "revised", "history",
                "reporters", "deadline", "immunity", "required_items", "requirements"}  # fmt: skip


def _words_before_signatures(md: str) -> int:
    return len(md.split("## Signatures", 1)[0].split())


@pytest.mark.parametrize("state", state_cases(STATES))
def test_no_clinician_or_maintainer_words_for_any_profession_or_option(state):
    for setting in SETTINGS:
        for options in OPTIONS:
            for profession in PROFESSIONS:
                request = Request(state=state, setting=setting, profession=profession, **options)
                md = render(build_document(request, practice=PROFILE), "md")
                body = md.split("## Legal basis", 1)[0].lower()
                found = [phrase for phrase in FORBIDDEN if phrase in body]
                assert not found, (state, setting, options, profession, found)


def test_a_client_field_is_never_a_summary_note_source_or_flag():
    for cls in (model.ReportingRule, model.ElderReportingRule, model.DutyToProtectRule,
                model.StatusRule, model.MinorsRule, model.RecordsRule, model.PrivilegeRule,
                model.SupervisionRule, model.TelehealthRule, model.GoodFaithEstimateRule,
                model.InsuranceRule, model.CrisisLineRule, model.SubstanceUseRule,
                model.LicensingBoard,
                model.RequiredDisclosure, model.AssociateTitle):  # fmt: skip
        fields = set(model.client_fields(cls))
        assert fields, cls
        assert not fields & NEVER_CLIENT, (cls, fields & NEVER_CLIENT)


def test_client_views_hold_client_fields_only():
    from consentgen import jurisdictions

    law = jurisdictions.load_file(ROOT / "jurisdictions" / "CA.yaml", "built-in").jurisdiction
    view = model.client_view(law.rules.child_abuse_reporting)
    assert set(view) == set(model.client_fields(model.ReportingRule))
    assert "summary" not in view and view["status"] == "mandatory"
    titles = model.client_view(law.rules.supervision)["titles"]
    assert titles and all("citations" not in t and "verified" not in t for t in titles)


def test_a_template_that_reads_a_summary_fails_with_one_line(tmp_path):
    sections = tmp_path / "templates" / "sections"
    sections.mkdir(parents=True)
    (sections / "child_abuse_reporting.md.j2").write_text(
        "{{ law.child_abuse_reporting.summary }}\n"
    )
    with pytest.raises(UserError) as failure:
        build_document(Request(state="CA"), data_dirs=[tmp_path])
    message = str(failure.value)
    assert "child_abuse_reporting.md.j2:1" in message and "summary" in message
    assert "\n" not in message.strip()


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_length_budgets_over_every_state():
    """Words before the signatures, fixture profile, every state, with and without the options
    that add sections (supervisee, telehealth, self-pay)."""
    for setting in SETTINGS:
        counts = {}
        for state in STATES:
            for options in OPTIONS:
                request = Request(state=state, setting=setting, **options)
                md = render(build_document(request, practice=PROFILE), "md")
                counts[(state, bool(options))] = _words_before_signatures(md)
        worst = max(counts, key=counts.get)
        assert counts[worst] <= BUDGET[setting], (setting, worst, counts[worst])
        if setting == "individual":  # the aim is 2,500 (WRITING.md)
            assert statistics.median(counts.values()) <= 2500


def test_a_board_without_confirmed_contacts_is_named_alone(cli):
    # Wyoming's psychology board has no confirmed website or phone in the data: the client's
    # copy names it and prints nothing invented after it.
    result = cli("build", "--state", "WY", "--setting", "individual", "--profession",
                 "psychologist", "--as-of", "2026-11-25")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = [
        line for line in result.stdout.splitlines() if "Wyoming State Board of Psychology" in line
    ]
    assert lines and all(line.rstrip().endswith("Psychology**") for line in lines), lines
    assert "\\<http" not in result.stdout
