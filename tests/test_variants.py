"""A rule that differs by profession: its variants, how they load, resolve, show and print."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import ZEDLAND
from consentgen import jurisdictions, structure
from consentgen.api import show
from consentgen.model import Jurisdiction
from consentgen.yamlio import load_text

BASE = (
    ZEDLAND
    + """\
  duty_to_protect:
    status: mandatory
    summary: Must warn.
    citations: [{cite: "Zz. Stat. § 1", source_url: "https://law.example.org/1", read: primary}]
    verified: true
    effective: 2020-01-01
    variants:
VARIANTS"""
)
COUNSELOR = """\
      - applies_to: [counselor, mft]
        status: permissive
        summary: May warn.
        citations: [{cite: "Zz. Stat. § 2", source_url: "https://law.example.org/2", read: primary}]
        verified: false
        effective: 2022-07-01
        history:
          - effective: 2015-01-01
            status: none
            summary: No duty.
            citations: [{cite: "Zz. Stat. § 2 (old)", source_url: "https://law.example.org/2o",
                         read: primary}]
            verified: false
"""


def _load(variants: str):
    marked = load_text(BASE.replace("VARIANTS", variants), "ZZ.yaml")
    return structure.build(Jurisdiction, marked)


def test_a_variant_is_the_rule_for_its_professions_and_keeps_its_own_history():
    j, problems = _load(COUNSELOR)
    assert problems == []
    rule = j.rules.duty_to_protect
    on = dt.date(2026, 1, 1)
    assert jurisdictions.resolve(rule, on).status == "mandatory"
    assert jurisdictions.resolve(rule, on, "psychologist").status == "mandatory"
    assert jurisdictions.resolve(rule, on, "mft").status == "permissive"
    assert jurisdictions.resolve(rule, dt.date(2021, 1, 1), "counselor").status == "none"
    assert jurisdictions.resolve(rule, dt.date(2021, 1, 1), "psychologist").status == "mandatory"
    assert jurisdictions.resolve(rule, on, "mft").variants == ()


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        (COUNSELOR.replace("      - applies_to: [counselor, mft]\n", "      - status: none\n")
         .replace("        status: permissive\n", "", 1),
         "a variant needs 'applies_to'"),
        (COUNSELOR + COUNSELOR.replace("[counselor, mft]", "[mft]"),
         "mft already has variant 0"),
        (COUNSELOR.replace("        verified: false\n        effective: 2022-07-01\n",
                           "        verified: false\n        effective: 2022-07-01\n"
                           "        variants: []\n"),
         "unknown key 'variants'"),
    ],
)  # fmt: skip
def test_bad_variants_are_one_line_each(variants, message):
    _, problems = _load(variants)
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_applies_to_belongs_in_a_variant_only():
    text = BASE.replace("    variants:\nVARIANTS", "    applies_to: [mft]\n")
    _, problems = structure.build(Jurisdiction, load_text(text, "ZZ.yaml"))
    assert [p.message.split(";")[0] for p in problems] == ["unknown key 'applies_to'"]


AS_OF = dt.date(2026, 11, 27)


def test_show_resolves_for_a_profession_and_keeps_null_keys(cli):
    mft = show("NY", as_of=AS_OF, profession="mft")
    psychologist = show("NY", as_of=AS_OF, profession="psychologist")
    assert mft["rules"]["duty_to_protect"]["status"] == "unknown"
    assert psychologist["rules"]["duty_to_protect"]["status"] == "mandatory"
    assert "variants" not in mft["rules"]["duty_to_protect"]
    assert {b["profession"] for b in mft["rules"]["licensing_boards"]} == {"mft"}
    data = json.loads(cli("show", "NY", "--format", "json", "--as-of", "2026-11-27").stdout)
    minors = data["rules"]["minors"]
    assert "outpatient_consent_age" in minors  # null, not left out
    assert data["profession"] is None
    table = cli("show", "NY", "--profession", "mft", "--as-of", "2026-11-27").stdout
    assert table.splitlines()[0].endswith(", for mft")
    assert "duty_to_protect [unknown]" in table
