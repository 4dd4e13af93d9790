"""Federal law by date: a document as of a date states only the federal law in force then.

The federal baseline (jurisdictions/US.yaml) dates each rule: the 988 Suicide & Crisis Lifeline
from 2022-07-16 (the National Suicide Prevention Lifeline's 1-800 number before), the No Surprises
Act good faith estimate from 2022-01-01 (nothing before), the 2024 Notice of Privacy Practices and
Part 2 rules. The key facts, emergencies, good faith estimate and legal basis follow those dates.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import pytest

from conftest import ROOT
from consentgen import Request, build_document, render, yamlio
from consentgen.jurisdictions import NAMES

LIFELINE = "1-800-273-8255"
BEFORE_988 = [dt.date(2012, 6, 1), dt.date(2021, 12, 31), dt.date(2022, 7, 15)]
FROM_988 = [dt.date(2022, 7, 16), dt.date(2024, 1, 1), dt.date(2026, 11, 25)]
STATES = sorted(NAMES)  # the 50 states and DC
DATES = [dt.date(2012, 6, 1), dt.date(2021, 12, 31), dt.date(2022, 7, 15), dt.date(2024, 6, 24)]
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


def _client_copy(as_of: dt.date, state: str = "CA", payment: str = "self-pay") -> str:
    """The Markdown a client reads before the legal basis (the citations are checked apart)."""
    doc = build_document(Request(state=state, payment=payment, as_of=as_of))
    text = render(doc, "md")
    assert isinstance(text, str)
    return text.split("\n## Legal basis", 1)[0]


def _section_ids(as_of: dt.date, payment: str = "self-pay", state: str = "CA") -> list[str]:
    doc = build_document(Request(state=state, payment=payment, as_of=as_of))
    return [s.id for s in doc.sections]


@pytest.mark.parametrize("as_of", BEFORE_988, ids=str)
def test_before_988_the_lifeline_number_and_no_988(as_of: dt.date) -> None:
    text = _client_copy(as_of)
    assert "988" not in text
    whole = render(build_document(Request(state="CA", payment="self-pay", as_of=as_of)), "md")
    legal_basis = whole.split("\n## Legal basis", 1)[1].split("\n---", 1)[0]  # not the footer
    assert "988" not in legal_basis
    key_facts = text.split("## Key facts", 1)[1].split("\n## ", 1)[0]
    emergencies = text.split("## Emergencies", 1)[1]
    assert LIFELINE in key_facts
    assert LIFELINE in emergencies


@pytest.mark.parametrize("as_of", FROM_988, ids=str)
def test_from_2022_07_16_988_everywhere(as_of: dt.date) -> None:
    """988 from its first day, and the day before it still the 1-800 number, in the key facts
    as in the emergencies section."""
    before = _client_copy(as_of.replace(year=2022, month=7, day=15))
    after = _client_copy(as_of)
    for text, present, absent in ((before, LIFELINE, "988"), (after, "988", LIFELINE)):
        key_facts = text.split("## Key facts", 1)[1].split("\n## ", 1)[0]
        emergencies = text.split("## Emergencies", 1)[1]
        assert present in key_facts and present in emergencies
        assert absent not in text


@pytest.mark.parametrize("as_of", [dt.date(2012, 6, 1), dt.date(2021, 12, 31)], ids=str)
def test_no_good_faith_estimate_before_2022(as_of: dt.date) -> None:
    assert "good_faith_estimate" not in _section_ids(as_of)
    assert "good faith estimate" not in _client_copy(as_of).lower()


@pytest.mark.parametrize("as_of", [dt.date(2022, 1, 1), dt.date(2026, 11, 25)], ids=str)
def test_good_faith_estimate_from_2022_for_self_pay_only(as_of: dt.date) -> None:
    """From 2022-01-01 a self-pay client has the estimate (key facts and its section); the
    day before, none; an insured client never gets the section."""
    eve = dt.date(2021, 12, 31)
    assert "good_faith_estimate" not in _section_ids(eve, "self-pay")
    assert "good faith estimate" not in _client_copy(eve, payment="self-pay").lower()
    assert "good_faith_estimate" in _section_ids(as_of, "self-pay")
    text = _client_copy(as_of, payment="self-pay")
    key_facts = text.split("## Key facts", 1)[1].split("\n## ", 1)[0]
    assert "good faith estimate" in key_facts.lower()
    assert "good_faith_estimate" not in _section_ids(as_of, "insurance")


def _dates_named(cite: str) -> list[dt.date]:
    """Dates a citation names: '(Apr. 26, 2024)', 'Oct. 1, 2004', '2003 edition', '(2024)',
    and Federal Register volumes ('89 FR 32976': volume 89 is 2024). A bare year counts from
    its first day, so only a year wholly after a document's date makes a citation too new."""
    found: list[dt.date] = []
    for month, day, year in re.findall(r"\b([A-Z][a-z]{2,8})\.? (\d{1,2}), (\d{4})\b", cite):
        if month[:3].lower() in MONTHS:
            found.append(dt.date(int(year), MONTHS[month[:3].lower()], int(day)))
    for year in re.findall(r"\(((?:19|20)\d\d)\)|\b((?:19|20)\d\d) edition\b", cite):
        y = next(y for y in year if y)
        found.append(dt.date(int(y), 1, 1))
    for volume in re.findall(r"\b(\d{1,3}) FR \d+", cite):
        found.append(dt.date(1935 + int(volume), 1, 1))
    return found


@cache
def _federal_forms() -> dict[str, list[tuple[dt.date | None, str]]]:
    """cite -> [(effective date of the form holding it, rule name)] over every form in US.yaml."""
    path = ROOT / "jurisdictions" / "US.yaml"
    data = yamlio.load_text(path.read_text(encoding="utf-8"), str(path)).data
    forms: dict[str, list[tuple[dt.date | None, str]]] = {}
    for name, rule in data["rules"].items():
        if not isinstance(rule, dict):
            continue
        for form in (rule, *rule.get("history", ())):
            effective = form.get("effective")
            if isinstance(effective, str):
                effective = dt.date.fromisoformat(effective)
            for c in form.get("citations", ()):
                forms.setdefault(c["cite"], []).append((effective, name))
    return forms


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_no_federal_citation_newer_than_the_document() -> None:
    """Over all 51 jurisdictions at a few dates: every federal citation a document shows comes
    from a form of its rule in force on the document's date, and names no date after it."""
    assert _dates_named("HIPAA rule, 89 FR 32976 (Apr. 26, 2024)") == [
        dt.date(2024, 4, 26),
        dt.date(2024, 1, 1),
    ]
    assert _dates_named("45 CFR § 164.524(a)(1) (2003 edition)") == [dt.date(2003, 1, 1)]
    assert _dates_named("Lifeline, 1-800-273-TALK (8255)") == []
    forms = _federal_forms()
    problems: set[str] = set()
    for as_of in DATES:
        for state in STATES:
            for payment in ("insurance", "self-pay"):
                doc = build_document(Request(state=state, payment=payment, as_of=as_of))
                for section in doc.sections:
                    for c in section.citations:
                        if c.cite not in forms:
                            continue  # a state's citation
                        if not any(eff is None or eff <= as_of for eff, _ in forms[c.cite]):
                            problems.add(f"{as_of} {c.rule}: {c.cite} (its form starts later)")
                        late = [d for d in _dates_named(c.cite) if d > as_of]
                        if late:
                            problems.add(f"{as_of} {c.rule}: {c.cite} (names {late[0]})")
    assert not problems, sorted(problems)


def test_2012_document_cites_no_2024_federal_register() -> None:
    doc = build_document(Request(state="CA", payment="self-pay", as_of=dt.date(2012, 6, 1)))
    cites = [c.cite for s in doc.sections for c in s.citations]
    assert cites
    assert not [c for c in cites if re.search(r"\b(8[5-9]|9\d) FR\b", c)]
    text = render(doc, "md")
    assert "89 FR" not in text and "32976" not in text
