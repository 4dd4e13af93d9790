"""consentgen lint: the cases in tests/lint_cases, the built-in data, the CLI and its formats."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from consentgen.lint import RULES, Config, lint_paths
from consentgen.lint.rules import BY_ID

CASES = Path(__file__).parent / "lint_cases"
TODAY = dt.date(2026, 11, 27)
CONFIG = Config(today=TODAY, render_matrix=False)
EXPECT = re.compile(r"^# expect: (CG\d{3}) (\d+):(\d+)(?: x(\d+))?$", re.MULTILINE)


def _expected(path: Path) -> Counter:
    found: Counter = Counter()
    for rule_id, line, col, times in EXPECT.findall(path.read_text(encoding="utf-8")):
        found[(rule_id, int(line), int(col))] += int(times or 1)
    return found


@pytest.mark.parametrize("path", sorted((CASES / "pass").glob("*.yaml")), ids=lambda p: p.stem)
def test_pass_cases_have_no_findings(path):
    assert lint_paths([path], config=CONFIG) == []


@pytest.mark.parametrize("path", sorted((CASES / "fail").glob("*.yaml")), ids=lambda p: p.stem)
def test_fail_cases_find_exactly_what_they_declare(path):
    expected = _expected(path)
    assert expected, f"{path.name} declares no '# expect:' lines"
    ids = {rule_id for rule_id, _, _ in expected}
    problems = lint_paths([path], config=CONFIG)
    got = Counter((p.rule_id, p.line, p.column) for p in problems if p.rule_id in ids)
    assert got == expected
    others = [p for p in problems if p.rule_id not in ids and p.severity == "error"]
    assert others == []


def test_every_rule_has_a_case():
    declared = {rule_id for path in CASES.rglob("*.yaml") for rule_id, *_ in
                EXPECT.findall(path.read_text(encoding="utf-8"))}  # fmt: skip
    template_rules = {"CG004", "CG301", "CG302", "CG303", "CG304", "CG401"}  # tested below
    assert {rule.id for rule in RULES} - template_rules <= declared


ONE_STATE = ROOT / "jurisdictions" / "CA.yaml"  # the render matrix over one state is enough here


def _templates(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / "templates" / "sections"
    folder.mkdir(parents=True)
    (folder / name).write_text(source)
    return tmp_path


def test_template_syntax_error_at_its_line(tmp_path):
    data = _templates(tmp_path, "consultation.md.j2", "Fine.\n{% if x %}\nno end\n")
    problems = lint_paths([data / "templates"], data_dirs=[data], config=CONFIG)
    assert [(p.rule_id, p.line) for p in problems] == [("CG301", 3)]  # where Jinja2 notices
    assert problems[0].path.endswith("consultation.md.j2")


def test_template_with_an_unknown_variable_fails_the_matrix(tmp_path):
    data = _templates(tmp_path, "consultation.md.j2", "A.\n{{ law.duty_to_protect.statuss }}\n")
    problems = lint_paths(
        [data / "templates", ONE_STATE], data_dirs=[data], config=Config(today=TODAY, jobs=1)
    )
    broken = [p for p in problems if p.rule_id == "CG302"]
    assert broken and broken[0].path.endswith("consultation.md.j2") and broken[0].line == 2
    assert "statuss" in broken[0].message


@pytest.mark.parametrize(
    ("source", "shown"),
    [("{% raw %}{{ x }}{% endraw %}\n", "{{"), ("\n", None), ("{{ 'None' }}\n", "None")],
)
def test_template_output_checks(tmp_path, source, shown):
    data = _templates(tmp_path, "consultation.md.j2", source)
    problems = lint_paths(
        [data / "templates", ONE_STATE], data_dirs=[data], config=Config(today=TODAY, jobs=1)
    )
    found = [p for p in problems if p.rule_id == "CG303"]
    assert found
    assert (f"shows '{shown}'" if shown else "is empty") in found[0].message


def test_a_template_that_drops_an_ethics_element_is_an_error(tmp_path):
    text = (ROOT / "templates" / "sections" / "about_therapy.md.j2").read_text(encoding="utf-8")
    start = text.index("**Other choices.**")
    data = _templates(
        tmp_path, "about_therapy.md.j2", text[:start] + text[text.index("\n\n", start) + 2 :]
    )
    problems = lint_paths(
        [data / "templates", ONE_STATE], data_dirs=[data], config=Config(today=TODAY, jobs=1)
    )
    found = [p for p in problems if p.rule_id == "CG304"]
    assert found and all(p.path.endswith("about_therapy.md.j2") for p in found)
    assert "alternatives, which APA 10.01(b) asks for" in found[0].message
    assert len(found) == len({p.message for p in found})  # once per code, not per state


def test_hard_prose_is_reported_with_its_grade(tmp_path):
    legalese = (
        "Notwithstanding any provision hereinabove, communications constituting "
        "confidential psychotherapeutic information shall be disclosed whenever "
        "statutory obligations necessitate disclosure to governmental authorities. "
    ) * 3
    data = _templates(tmp_path, "consultation.md.j2", legalese + "\n")
    problems = lint_paths(
        [data / "templates", ONE_STATE], data_dirs=[data], config=Config(today=TODAY, jobs=1)
    )
    hard = [p for p in problems if p.rule_id == "CG401" and "consultation" in p.path]
    assert hard and re.search(r"reads at grade \d+\.\d", hard[0].message)


def test_binary_file_is_a_finding_not_a_crash(tmp_path):
    path = tmp_path / "XX.yaml"
    path.write_bytes(b"\x00\x01\x02")
    assert [p.rule_id for p in lint_paths([path], config=CONFIG)] == ["CG004"]


def test_builtin_data_and_templates_have_no_errors():
    problems = lint_paths([], config=Config(today=TODAY))
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_cli_formats_and_exit_codes(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = CASES / "fail" / "CG102_unknown_key.yaml"
    day = ("--as-of", TODAY.isoformat())  # the fixtures' last_reviewed is fresh on this day
    text = cli("lint", bad, *day)
    assert text.exit_code == 1
    assert re.search(r"CG102_unknown_key\.yaml:8:5: error: unknown key 'sumary'; did you mean "
                     r"'summary'\? \[CG102 unknown-key\]", text.stdout)  # fmt: skip
    assert "1 error(s)" in text.stderr
    data = json.loads(cli("lint", bad, "--format", "json").stdout)
    assert {"id", "severity", "path", "line", "column", "message"} <= set(data[0])
    github = cli("lint", bad, "--format", "github").stdout
    assert "::error file=" in github and ",line=8,col=5,title=CG102 unknown-key::" in github
    warned = CASES / "fail" / "CG202_unverified.yaml"
    assert cli("lint", warned, *day).exit_code == 0
    assert cli("lint", warned, "--strict", *day).exit_code == 1
    assert cli("lint", warned, "--strict", "--ignore", "unverified,CG208", *day).exit_code == 0
    # A year and a day after the fixture's last review, the same file is stale (CG203).
    late = ("--as-of", "2027-11-03")
    assert cli("lint", warned, "--strict", "--ignore", "unverified,CG208", *late).exit_code == 1
    assert cli("lint", bad, "--select", "CG2").exit_code == 0
    usage = cli("lint", bad, "--select", "CG999")
    assert usage.exit_code == 2 and "unknown lint rule 'CG999'" in usage.stderr


def test_config_from_pyproject(cli, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.consentgen.lint]\nstrict = true\n'
                                             'ignore = ["CG208"]\nmax-age = 10\n')  # fmt: skip
    monkeypatch.chdir(tmp_path)
    warned = CASES / "fail" / "CG202_unverified.yaml"
    result = cli("lint", warned, "--as-of", TODAY.isoformat())
    assert result.exit_code == 1  # strict from the file
    assert "CG208" not in result.stdout and "CG203" in result.stdout  # max-age 10 days


def test_list_rules(cli):
    out = cli("lint", "--list-rules").stdout
    assert all(rule.id in out and rule.name in out for rule in RULES)


def test_schema_command_prints_the_model_schema(cli):
    from consentgen import api

    assert json.loads(cli("schema", "practice").stdout) == api.json_schema("practice")
    assert json.loads(cli("schema").stdout)["title"] == "consentgen jurisdiction file"


def test_repo_files_point_editors_at_the_schema():
    for path in (ROOT / "jurisdictions").glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert (
            first == "# yaml-language-server: $schema=../src/consentgen/schema/"
            "jurisdiction.schema.json"
        ), path.name


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.dates().map(str),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "code",
                    "name",
                    "rules",
                    "summary",
                    "status",
                    "citations",
                    "verified",
                    "history",
                    "effective",
                    "duty_to_protect",
                    "minors",
                    "practice",
                    "office",
                    "last_reviewed",
                    "outpatient_consent_age",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=yaml_values)
def test_lint_never_crashes_on_any_structure(tmp_path, data):
    import yaml

    path = tmp_path / "ZZ.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = lint_paths([path], config=CONFIG)
    # Each finding is under a registered rule, at a place in this file; a list is never a file
    # lint can read (a mapping may be an empty practice profile).
    assert all(p.rule_id in BY_ID and p.path.endswith("ZZ.yaml") and p.line >= 0 for p in problems)
    if isinstance(data, list):
        assert any(p.rule_id == "CG101" and p.severity == "error" for p in problems)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_lint_never_crashes_on_any_bytes(tmp_path, content):
    path = tmp_path / "practice.yaml"
    path.write_bytes(content)
    problems = lint_paths([path], config=CONFIG)
    assert all(
        p.rule_id in BY_ID and p.path.endswith("practice.yaml") and p.line >= 0 for p in problems
    )
    if b"\x00" in content:
        assert [p.rule_id for p in problems if p.severity == "error"] == ["CG004"]


def test_the_render_matrix_halves_the_option_cube_without_losing_a_pair():
    import itertools

    from consentgen.lint.templates import COMBINATIONS, SETTINGS, combinations_for

    assert combinations_for(0, 3) == COMBINATIONS  # a few files: the whole cube each
    halves = [set(combinations_for(i, 51)) for i in (0, 1)]
    assert all(len(h) == len(COMBINATIONS) // 2 for h in halves)
    assert halves[0] | halves[1] == set(COMBINATIONS)  # across the states, every combination
    for half in halves:  # within a state, every setting meets every pair of option values
        for setting in SETTINGS:
            options = [c[1:] for c in half if c[0] == setting]
            for i, j in itertools.combinations(range(3), 2):
                assert len({(o[i], o[j]) for o in options}) == 4


def test_the_frame_is_rendered_once_a_setting_yet_meets_every_combination():
    from consentgen.lint.templates import COMBINATIONS, SETTINGS, combinations_for, frames_for

    assert frames_for(0, 3) == COMBINATIONS  # a few files: every document whole
    framed = set()
    for i in range(51):
        frames = frames_for(i, 51)
        assert set(frames) <= set(combinations_for(i, 51))
        assert sorted(c[0] for c in frames) == sorted(SETTINGS)  # once a setting
        framed |= set(frames)
    assert framed == set(COMBINATIONS)


@pytest.mark.slow  # the whole matrix: seconds
def test_a_frame_that_fails_in_one_combination_only_is_found(tmp_path):
    frame = (ROOT / "templates" / "consent.md.j2").read_text(encoding="utf-8")
    odd = (
        '{% if doc.setting == "group" and doc.options.payment == "self-pay" and '
        "doc.options.supervisee and not doc.options.telehealth %}{{ doc.no_such_field }}"
        "{% endif %}\n"
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "consent.md.j2").write_text(odd + frame, encoding="utf-8")
    problems = lint_paths([tmp_path / "templates", ROOT / "jurisdictions"], data_dirs=[tmp_path],
                          config=Config(today=TODAY))  # fmt: skip
    broken = [p for p in problems if p.rule_id == "CG302"]
    assert len(broken) == 1 and broken[0].path.endswith("consent.md.j2"), problems
    assert "group" in broken[0].message and "no_such_field" in broken[0].message


@pytest.mark.slow  # the whole matrix: seconds
def test_templates_beside_no_valid_state_file_are_rendered_with_the_built_in_states(tmp_path):
    data = _templates(tmp_path, "consultation.md.j2", "A.\n{{ law.duty_to_protect.statuss }}\n")
    (tmp_path / "XX.yaml").write_text("code: XX\n")
    problems = lint_paths([data / "templates", tmp_path / "XX.yaml"], data_dirs=[data],
                          config=Config(today=TODAY))  # fmt: skip
    assert any(p.rule_id == "CG103" and p.path.endswith("XX.yaml") for p in problems)
    broken = [p for p in problems if p.rule_id == "CG302"]
    assert broken and "statuss" in broken[0].message


def test_every_finding_names_a_registered_rule():
    # No default id: the checks, the loader and the template runs each name their rule.
    problems = lint_paths([CASES / "fail", CASES / "pass"], config=CONFIG)
    assert problems and {p.rule_id for p in problems} <= set(BY_ID)


def test_each_rule_is_documented_with_what_fails_and_what_passes(update_golden):
    from conftest import ROOT, write_golden
    from consentgen.lint.rules import documentation

    assert all(rule.example and rule.passing and rule.example != rule.passing for rule in RULES)
    path = ROOT / "docs" / "lint-rules.md"
    if update_golden or not path.exists():
        write_golden(path, documentation())
    assert path.read_text(encoding="utf-8") == documentation(), "run pytest --update-golden"
