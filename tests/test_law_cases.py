"""Runs the law-as-data cases in tests/law/*.yaml (see tests/law/README.md): what a rule says for
a state, a date and a profession, and what the client's copy then says."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from conftest import PROFILE
from consentgen.api import build_document, prepare_law, render
from consentgen.model import Request

LAW = Path(__file__).parent / "law"
KEYS = {"name", "state", "as_of", "profession", "rule", "expect", "setting", "document_says",
        "document_does_not_say"}  # fmt: skip


def _cases() -> list:
    cases = []
    for path in sorted(LAW.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            unknown = set(case) - KEYS
            assert not unknown, f"{path.name}: {case.get('name')}: unknown keys {unknown}"
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(map(str, value))
    return "" if value is None else str(value)


@pytest.mark.parametrize("case", _cases())
def test_law_case(case):
    as_of = case["as_of"] if isinstance(case["as_of"], dt.date) else dt.date.fromisoformat(
        case["as_of"])  # fmt: skip
    law, _, _ = prepare_law(case["state"], as_of)
    rule = law.for_profession(case.get("profession")).rules.get(case["rule"])
    expect = case["expect"]
    if expect is None:
        assert rule is None, f"{case['rule']} is in force on {as_of}"
    else:
        assert rule is not None, f"{case['rule']} is not in the data on {as_of}"
        fields = dataclasses.asdict(rule)
        for key, wanted in expect.items():
            if key.endswith("_includes"):
                field = key.removesuffix("_includes")
                assert field in fields, f"no field {field!r}"
                for text in wanted:
                    assert text in _text(fields[field]), f"{field} lacks {text!r}"
            else:
                assert key in fields, f"no field {key!r}"
                got = list(fields[key]) if isinstance(fields[key], tuple) else fields[key]
                assert got == wanted, f"{key}: {got!r} != {wanted!r}"
    if "document_says" in case or "document_does_not_say" in case:
        request = Request(state=case["state"], setting=case.get("setting", "individual"),
                          profession=case.get("profession"), as_of=as_of)  # fmt: skip
        document = render(build_document(request, practice=PROFILE), "md")
        for text in case.get("document_says", ()):
            assert text in document, f"the document does not say {text!r}"
        for text in case.get("document_does_not_say", ()):
            assert text not in document, f"the document says {text!r}"
