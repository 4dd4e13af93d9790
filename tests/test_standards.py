"""Each document tells the client what the clinician's ethics code asks for consent (US.yaml's
ethics_codes), in every setting and option; a template that drops an element is caught."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from conftest import PROFILE, ROOT
from consentgen import model, standards
from consentgen.api import build_document, prepare_law
from consentgen.model import Request

SETTINGS = ("individual", "couples", "family", "group", "minor")
OPTIONS = (
    {},
    {"supervisee": True, "telehealth": True, "payment": "self-pay"},
    {"guardians": ("Pat Doe",)},
)
PROFESSIONS = ("psychologist", "counselor", "social-worker", "mft")


def _codes():
    law, _, _ = prepare_law("CA", dt.date(2026, 11, 27))
    return law.ethics_codes


def test_every_profession_has_a_code_and_every_element_a_place():
    assert sorted(c.profession for c in _codes()) == sorted(PROFESSIONS)
    assert set(standards.ELEMENTS) == set(typing.get_args(model.ConsentElement))


@pytest.mark.parametrize("state", ["CA", "TX", "NY", "CO", "FL", "OR"])
def test_each_document_tells_what_its_professions_code_requires(state):
    codes = _codes()
    for setting in SETTINGS:
        for options in OPTIONS:
            if "guardians" in options and setting not in ("family", "group"):
                continue
            for profession in PROFESSIONS:
                request = Request(state=state, setting=setting, profession=profession, **options)
                doc = build_document(request, practice=PROFILE)
                wanted = standards.requirements(codes, profession, request)
                assert wanted, (profession, setting)
                gaps = [(r.cite, r.element) for r in standards.missing(doc, wanted)]
                assert gaps == [], (state, setting, options, profession, gaps)


def test_a_template_without_the_alternatives_misses_them(tmp_path):
    own = tmp_path / "templates" / "sections"
    own.mkdir(parents=True)
    text = (ROOT / "templates" / "sections" / "about_therapy.md.j2").read_text()
    start = text.index("**Other choices.**")
    end = text.index("\n\n", start)
    (own / "about_therapy.md.j2").write_text(text[:start] + text[end + 2 :])
    request = Request(state="CA", profession="social-worker")
    doc = build_document(request, practice=PROFILE, data_dirs=[tmp_path])
    gaps = standards.missing(doc, standards.requirements(_codes(), "social-worker", request))
    assert [(r.cite, r.element) for r in gaps] == [("NASW 1.03(a)", "alternatives")]


def test_payer_limits_apply_only_with_insurance():
    codes = _codes()
    insured = standards.requirements(codes, "social-worker", Request(state="CA"))
    self_pay = standards.requirements(
        codes, "social-worker", Request(state="CA", payment="self-pay")
    )
    assert "payer_limits" in {r.element for r in insured}
    assert "payer_limits" not in {r.element for r in self_pay}
