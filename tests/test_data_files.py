"""The jurisdiction files and the profile: the loader, the model and the JSON Schema agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from conftest import PROFILE, ROOT, write_golden
from consentgen import api, jurisdictions
from consentgen.errors import InvalidFileError
from consentgen.profile import load as load_profile

BUILTIN = sorted((ROOT / "jurisdictions").glob("*.yaml"))
MINIMAL = """\
code: ZZ
name: Example
last_reviewed: 2026-01-01
rules:
  duty_to_protect:
    status: permissive
    summary: A therapist may warn.
    citations: [{cite: "Ex. Stat. 1", source_url: "https://example.org/1", read: primary}]
    verified: true
"""


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _load(tmp_path: Path, text: str, name: str = "ZZ.yaml"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return jurisdictions.load_file(path, "test")


def _problems(tmp_path: Path, text: str | bytes, name: str = "ZZ.yaml") -> list[str]:
    with pytest.raises(InvalidFileError) as info:
        _load(tmp_path, text, name)
    return [f"{p.line}:{p.column}: {p.message}" for p in info.value.problems]


@pytest.mark.parametrize("path", BUILTIN, ids=lambda p: p.stem)
def test_builtin_file_loads_and_every_rule_is_cited(path):
    loaded = jurisdictions.load_file(path, "built-in")
    j = loaded.jurisdiction
    assert j.code == path.stem
    for name in (
        ("hipaa_privacy_notice",)
        if j.code == "US"
        else (
            "child_abuse_reporting",
            "elder_abuse_reporting",
            "duty_to_protect",
            "minors",
            "records",
            "privilege",
        )
    ):
        rule = getattr(j.rules, name)
        assert rule is not None, f"{path.name} lacks {name}"
    for form in _every_form(j):
        assert form.citations
        assert all(c.source_url.startswith(("http://", "https://")) for c in form.citations)


def _every_form(j):
    for name in j.rules.__dataclass_fields__:
        value = getattr(j.rules, name)
        if value is None or isinstance(value, tuple):
            continue
        yield value
        yield from value.history


@pytest.mark.parametrize("kind", ["jurisdiction", "practice"])
def test_schema_files_are_generated_from_the_model(kind, update_golden):
    path = ROOT / "src/consentgen/schema" / f"{kind}.schema.json"
    if update_golden:
        write_golden(path, json.dumps(api.json_schema(kind), indent=2) + "\n")
    shipped = json.loads(path.read_text())
    assert shipped == api.json_schema(kind), "the model changed: run pytest --update-golden"


@pytest.mark.parametrize("path", BUILTIN, ids=lambda p: p.stem)
def test_schema_accepts_what_the_loader_accepts(path):
    import yaml

    schema = api.json_schema("jurisdiction")
    data = _jsonable(yaml.safe_load(path.read_text()))
    jsonschema.Draft202012Validator(schema).validate(data)


BAD_DOCS = {
    "unknown key": MINIMAL.replace("    verified: true", "    verified: true\n    sumary: x"),
    "missing summary": MINIMAL.replace("    summary: A therapist may warn.\n", ""),
    "bad status": MINIMAL.replace("status: permissive", "status: sometimes"),
    "no citations": MINIMAL.replace(
        '[{cite: "Ex. Stat. 1", source_url: "https://example.org/1", read: primary}]', "[]"
    ),
    "verified as text": MINIMAL.replace("verified: true", 'verified: "true"'),
    "history without date": MINIMAL
    + (
        "    history:\n      - status: none\n        summary: x\n        verified: false\n"
        '        citations: [{cite: a, source_url: "https://e.org", read: primary}]\n'
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCS))
def test_loader_and_schema_both_refuse(tmp_path, case):
    import yaml

    text = BAD_DOCS[case]
    assert _problems(tmp_path, text)
    schema = api.json_schema("jurisdiction")
    errors = list(
        jsonschema.Draft202012Validator(schema).iter_errors(_jsonable(yaml.safe_load(text)))
    )
    assert errors, f"schema accepted: {case}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL.replace("    verified: true", "    verified: true\n    sumary: x"),
            "10:5: unknown key 'sumary'; did you mean 'summary'?",
        ),
        (
            MINIMAL.replace("status: permissive", "status: sometimes"),
            "6:13: rules.duty_to_protect.status must be one of 'mandatory', 'permissive', 'none', "
            "'unknown', not 'sometimes'",
        ),
        (
            MINIMAL.replace("last_reviewed: 2026-01-01", "last_reviewed: 2026-02-30"),
            "3:16: '2026-02-30' is not a real date (use YYYY-MM-DD)",
        ),
        (MINIMAL + "name: Again\n", "10:1: duplicate key 'name' (first at line 2); keep one"),
        (
            MINIMAL.replace("rules:", "base: &b {x: 1}\nother: *b\nrules:"),
            "5:1: anchors and aliases (& and *) are not allowed; write the value out",
        ),
        ("code: [unclosed\n", "2:1: YAML syntax: did not find expected ',' or ']'"),
        (
            MINIMAL.replace("rules:", "rules:\n  <<: {x: 1}"),
            "5:3: merge keys (<<) are not allowed; write the keys out",
        ),
        ("- a list\n", "1:1: the file must be a mapping of keys, not a list"),
    ],
)
def test_problems_point_at_line_and_column(tmp_path, text, expected):
    assert expected in _problems(tmp_path, text)


def test_code_must_match_file_name(tmp_path):
    assert "1:7: code 'ZZ' does not match the file name QQ.yaml; rename one of them" in _problems(
        tmp_path, MINIMAL, "QQ.yaml"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"code: \xff\xfe\n", "is not UTF-8 text; save it as UTF-8"),
        (b"\x00\x01binary", "is a binary file, not YAML"),
    ],
)
def test_unreadable_bytes(tmp_path, content, message):
    assert any(message in p for p in _problems(tmp_path, content))


def test_bom_is_accepted(tmp_path):
    assert _load(tmp_path, "\ufeff" + MINIMAL).jurisdiction.code == "ZZ"


def test_profile_type_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("clinician:\n  profession: therapist\noffice:\n  staff_trained: maybe\n")
    with pytest.raises(InvalidFileError) as info:
        load_profile(path)
    messages = [str(p) for p in info.value.problems]
    assert any(":2:15: error: clinician.profession must be one of" in m for m in messages)
    assert any(
        ":4:18: error: office.staff_trained must be true or false, not 'maybe'" in m
        for m in messages
    )


def test_profile_that_is_a_list(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("- practice\n")
    with pytest.raises(InvalidFileError, match="must be a mapping of keys, not a list"):
        load_profile(path)


def test_empty_profile_is_all_blanks(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("# nothing yet\n")
    assert load_profile(path) == load_profile(None)


def test_cache_never_serves_stale_or_invalid_data(tmp_path, monkeypatch, new_process):
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path / "cache"))
    first = _load(tmp_path, MINIMAL).jurisdiction
    assert first.name == "Example"
    assert list((tmp_path / "cache" / "jurisdictions").iterdir())
    assert _load(tmp_path, MINIMAL.replace("Example", "Changed")).jurisdiction.name == "Changed"
    broken = MINIMAL.replace("status: permissive", "status: sometimes")
    assert _problems(tmp_path, broken) == _problems(tmp_path, broken)


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert _load(tmp_path, MINIMAL).jurisdiction.code == "ZZ"
    assert not (tmp_path / ".cache").exists()


def test_profile_cache_follows_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "p.yaml"
    path.write_text("practice: {name: First}\n")
    assert load_profile(path).practice.name == "First"
    path.write_text("practice: {name: Second}\n")
    assert load_profile(path).practice.name == "Second"
    path.write_text("practice: {nam: Third}\n")
    for _ in range(2):  # an invalid profile is never cached
        with pytest.raises(InvalidFileError, match="unknown key 'nam'"):
            load_profile(path)


@pytest.mark.parametrize("kind", ["document", "estimate"])
def test_output_schemas_are_generated_from_the_model(kind, update_golden):
    path = ROOT / "src/consentgen/schema" / f"{kind}.schema.json"
    if update_golden:
        write_golden(path, json.dumps(api.json_schema(kind), indent=2) + "\n")
    assert json.loads(path.read_text()) == api.json_schema(kind), "run pytest --update-golden"


@pytest.mark.parametrize(
    ("state", "setting", "options"),
    [("CA", "couples", {}), ("NY", "minor", {"payment": "self-pay", "supervisee": True}),
     ("TX", "family", {"guardians": ("Pat Doe",), "telehealth": True})],
)  # fmt: skip
def test_document_json_meets_its_schema_with_every_key(state, setting, options):
    import datetime as dt

    from consentgen.model import Request

    request = Request(state=state, setting=setting, clients=("A B",), as_of=dt.date(2026, 11, 27),
                      **options)  # fmt: skip
    data = json.loads(api.render(api.build_document(request, practice=PROFILE), "json"))
    jsonschema.Draft202012Validator(api.json_schema("document")).validate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(api.json_schema("document")).validate(
            {k: v for k, v in data.items() if k != "missing"}
        )


def test_estimate_json_meets_its_schema():
    practice = ROOT / "tests/fixtures/practices/co_lpc_selfpay.yaml"
    estimate = api.good_faith_estimate(practice=practice, state="CO", client="A B")
    data = json.loads(api.render_estimate(estimate, "json"))
    jsonschema.Draft202012Validator(api.json_schema("estimate")).validate(data)
    assert data["client_birth_date"] is None  # null, not left out
