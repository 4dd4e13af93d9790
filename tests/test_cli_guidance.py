"""The command line guides a newcomer instead of guessing (issue 11): one-line usage errors,
complete help, recheck that asks for the profile, changes with federal law, Excel CSVs, YAML tabs,
and a README whose profile key list is generated from the model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT, generated_block
from consentgen.cli import app

# --- Usage errors: one line, naming the option and what it accepts --------------------------


def _one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert "Usage:" not in result.stderr and "Try '" not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("build", "--state", "CA", "--setting", "coupel"),
            "error: --setting 'coupel' is not one of individual, couples, family, group, minor",
        ),
        (
            ("build", "--state", "CA", "--payment", "cash"),
            "error: --payment 'cash' is not one of insurance, self-pay",
        ),
        (("build", "--state", "CA", "--format", "rtf"), "md, html, txt, json, pdf, docx"),
        (("build", "--state", "CA", "--bogus"), "--bogus"),
        (("build", "--setting", "couples"), "--state"),
        (("build", "--state"), "--state"),
        (("batch",), "FILE"),
        (("batch", "x.csv", "--out-dir", "out", "--jobs", "abc"), "--jobs 'abc'"),
        (("batch", "x.csv", "--out-dir", "out", "--jobs", "0"), "--jobs"),
        (("batch", "x.csv"), "--out-dir"),
        (("nosuch",), "'nosuch'"),
        (("list", "--format", "xml"), "--format 'xml' is not one of table, json"),
        (("coverage", "-f", "xls"), "table, json, csv"),
        (("show",), "STATE"),
        (("show", "CA", "NY"), "'NY'"),
        (("diff", "--state", "NY"), "--from"),
        (("diff", "--state", "NY", "--from", "2020-01-01", "-f", "word"), "auto, rich, diff, json"),
        (("recheck",), "MANIFEST"),
        (("recheck", "m.json", "--format", "yaml"), "table, json, csv"),
        (("changes",), "--since"),
        (("lint", "--max-age", "-1"), "--max-age"),
        (("lint", "--max-age", "a year"), "--max-age 'a year'"),
        (("schema", "profile"), "'profile' is not one of jurisdiction, practice"),
        (("init", "a.yaml", "b.yaml"), "'b.yaml'"),
    ],
)
def test_every_usage_error_is_one_line_naming_the_option(cli, tmp_path, monkeypatch, args,
                                                          expected):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    message = _one_line(cli(*args))
    assert expected in message
    assert list(tmp_path.iterdir()) == []


def test_a_usage_error_in_a_real_process_is_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "consentgen", "batch", "x.csv", "--out-dir",
                             "out", "--jobs", "many"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "error: --jobs 'many' is not a whole number of 1 or more\n"
    assert result.stdout == ""


def test_usage_errors_show_control_characters_escaped(cli):
    message = _one_line(cli("build", "--state", "CA", "--setting", "a\x1b[2Jb"))
    assert "\x1b" not in message and "\\x1b" in message


def test_no_arguments_still_shows_the_help(cli):
    result = cli()
    assert "Commands:" in result.stdout + result.stderr


# --- Help -----------------------------------------------------------------------------------


def _click_commands():  # type: ignore[no-untyped-def]
    import typer

    return typer.main.get_command(app).commands  # type: ignore[attr-defined]


def test_every_option_and_argument_of_every_command_has_help():
    import typer

    commands = {"consentgen": typer.main.get_command(app), **_click_commands()}
    missing = [
        f"{name} {param.name}"
        for name, command in commands.items()
        for param in command.params
        if not param.hidden and not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


def test_command_summaries_are_not_cut_off(cli):
    text = cli("--help").stdout
    listing = text.split("Commands:", 1)[1]
    assert "..." not in listing
    flat = " ".join(listing.split())
    for name, command in _click_commands().items():
        summary = command.get_short_help_str(limit=45)
        assert not summary.endswith("..."), name
        assert f"{name} {' '.join(summary.split())}" in flat, name


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("batch", "Usage: consentgen batch [OPTIONS] FILE\n"),
        ("recheck", "Usage: consentgen recheck [OPTIONS] MANIFEST\n"),
        ("show", "Usage: consentgen show [OPTIONS] STATE\n"),
        ("init", "Usage: consentgen init [OPTIONS] [FILE]\n"),
        ("lint", "Usage: consentgen lint [OPTIONS] [PATH]...\n"),
        ("schema", "Usage: consentgen schema [OPTIONS] [KIND]\n"),
    ],
)
def test_argument_labels_read_naturally(cli, command, usage):
    text = cli(command, "--help").stdout
    assert text.startswith(usage)
    labels = [line.split()[0] for line in text.split("Arguments:\n", 1)[-1].split("\n\n")[0]
              .splitlines() if line.startswith("  ") and not line.startswith("   ")]  # fmt: skip
    for label in [text.splitlines()[0], *labels]:
        assert not re.search(r"[{}]|:<|\[[a-z]+\]", label), label
    assert "<int range>" not in text


def test_batch_and_recheck_name_the_documents_formats_alike(cli):
    for command in ("batch", "recheck"):
        assert "--doc-format FORMATS" in cli(command, "--help").stdout, command
    assert "--format-docs" not in cli("recheck", "--help").stdout  # kept, hidden


# --- recheck: the profile the batch used ----------------------------------------------------


def _profile_batch(cli, tmp_path: Path, practice: Path | None = PROFILE) -> Path:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,state,setting,clients\nr1,CA,individual,Secret Person\n"
                    "r2,NY,couples,Secret One;Secret Two\n")  # fmt: skip
    out = tmp_path / "out"
    args = ("--practice", practice) if practice else ()
    result = cli("batch", rows, "--out-dir", out, "--as-of", AS_OF, *args)
    assert result.exit_code == 0, result.stderr
    return out / "manifest.json"


def test_recheck_without_the_profile_the_batch_used_asks_for_it(cli, tmp_path):
    manifest = _profile_batch(cli, tmp_path)
    before = sorted(p.name for p in manifest.parent.iterdir())
    for extra in ((), ("--batch", tmp_path / "rows.csv")):
        result = cli("recheck", manifest, "--as-of", AS_OF, *extra)
        message = _one_line(result)
        assert "--practice FILE" in message and "profile" in message
    assert sorted(p.name for p in manifest.parent.iterdir()) == before  # nothing rebuilt


def test_recheck_with_the_same_profile_finds_nothing_and_says_nothing(cli, tmp_path):
    manifest = _profile_batch(cli, tmp_path)
    result = cli("recheck", manifest, "--as-of", AS_OF, "--practice", PROFILE)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert "0 of 2 document(s) need re-consent" in result.stdout


def test_recheck_with_another_profile_says_it_differs(cli, tmp_path):
    manifest = _profile_batch(cli, tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(PROFILE.read_text().replace("Jordan Lee", "Jordan Leigh"))
    result = cli("recheck", manifest, "--as-of", AS_OF, "--practice", other, "--format", "json")
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "other.yaml" in warnings[0] and "not the profile" in warnings[0]
    assert "2 of 2" in warnings[0]
    report = json.loads(result.stdout)
    assert report["warnings"] == [warnings[0].removeprefix("warning: ")]


def test_recheck_of_a_batch_built_without_a_profile_needs_none(cli, tmp_path):
    manifest = _profile_batch(cli, tmp_path, practice=None)
    result = cli("recheck", manifest, "--as-of", AS_OF)
    assert result.exit_code == 0 and result.stderr == ""
    given = cli("recheck", manifest, "--as-of", AS_OF, "--practice", PROFILE)
    assert "warning: " in given.stderr and "2 of 2" in given.stderr


def test_recheck_writes_new_documents_in_the_formats_asked_old_spelling_too(cli, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(PROFILE.read_text().replace("Jordan Lee", "Jordan Leigh"))
    for option, fmt in (("--doc-format", "txt"), ("--format-docs", "html")):
        (tmp_path / fmt).mkdir()
        manifest = _profile_batch(cli, tmp_path / fmt)
        result = cli("recheck", manifest, "--as-of", AS_OF, "--practice", other,
                     "--batch", tmp_path / fmt / "rows.csv", option, fmt)  # fmt: skip
        assert result.exit_code == 1, result.stderr
        for name in ("r1_CA_individual", "r2_NY_couples"):
            assert "Jordan Leigh" in (manifest.parent / f"{name}.{AS_OF}.{fmt}").read_text()


# --- changes: federal law too, and --state US -----------------------------------------------


def test_changes_for_a_state_include_federal_changes_marked_as_such(cli):
    result = cli("changes", "--since", "2000-01-01", "--state", "NY", "--format", "json")
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    states = {c["state"] for c in found}
    assert states == {"NY", "US"}
    assert all(c["federal"] is (c["state"] == "US") for c in found)
    assert any(c["rule"] == "good_faith_estimate" and c["state"] == "US" for c in found)
    table = cli("changes", "--since", "2000-01-01", "--state", "NY").stdout
    assert "2022-01-01  US (federal)  good_faith_estimate" in table


def test_changes_accepts_state_us_for_federal_changes_only(cli):
    result = cli("changes", "--since", "2000-01-01", "--state", "us", "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found and {c["state"] for c in found} == {"US"}


# --- Batch CSVs from Excel in other locales -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ID;State;Setting;Clients\nx1;CA;individual;Alex Secret\n", "semicolons.csv"),
        ("id\tstate\tsetting\tclients\nx1\tCA\tindividual\tAlex Secret\n", "tabs.csv"),
        (
            " Id , STATE ,Setting, Clients ,As Of\nx1,CA,individual,Alex Secret,2026-11-25\n",
            "spaces.csv",
        ),
        (
            '\ufeffID;State;Setting;Clients;Payment\r\nx1;CA;individual;"Alex Secret";self-pay\r\n',
            "excel.csv",
        ),
    ],
)
def test_excel_csv_in_other_locales_is_read(cli, tmp_path, text, name):
    source = tmp_path / name
    source.write_bytes(text.encode("utf-8"))
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert (out / "x1_CA_individual.md").is_file()
    assert "unknown column" not in result.stderr
    assert "Alex Secret" in (out / "x1_CA_individual.md").read_text()


def test_missing_columns_say_what_was_found(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text("client_id;region;kind;na\x1bmes\nx;CA;individual;Alex\n")
    result = cli("batch", source, "--out-dir", tmp_path / "out")
    message = _one_line(result)
    assert "missing column(s) id, state, setting, clients" in message
    assert "found: client_id, region, kind, na\\x1bmes" in message
    assert "\x1b" not in message
    assert not (tmp_path / "out").exists()


def test_a_couples_row_with_names_joined_by_a_comma_gets_a_warning(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text('id,state,setting,clients\nc1,CA,couples,"Alex Secret, Bo Secret"\n'
                      "c2,CA,couples,Cy Secret;Di Secret\n"
                      'c3,CA,individual,"Secret, Ed"\n')  # fmt: skip
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "line 2" in warnings[0] and "c1" in warnings[0] and "';'" in warnings[0]
    assert "Secret" not in result.stderr


def test_the_comma_warning_is_a_note_of_the_result(tmp_path):
    from consentgen import batch

    source = tmp_path / "clients.csv"
    source.write_text('ID;State;Setting;Clients\ng1;CA;group;"Alex Secret, Bo Secret"\n')
    result = batch(source, tmp_path / "out", as_of=__import__("datetime").date(2026, 11, 25))
    assert [n for n in result.notes if "g1" in n and "';'" in n and "Secret" not in n]


# --- YAML: a tab says so --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("practice:\n\tname: X\n", 2),
        ("practice:\n  name: X\n\t# a comment\n", 3),
        ("policies:\n  communication:\n  \temail: true\n", 3),
    ],
)
def test_a_tab_in_yaml_indentation_says_so(cli, tmp_path, text, line):
    profile = tmp_path / "practice.yaml"
    profile.write_text(text)
    message = _one_line(cli("build", "--state", "CA", "--practice", profile))
    assert f"tab character at line {line}: indent with spaces" in message
    assert "cannot start any token" not in message
    linted = cli("lint", profile)
    assert f"tab character at line {line}: indent with spaces" in linted.stdout


def test_other_yaml_syntax_errors_keep_their_message(cli, tmp_path):
    profile = tmp_path / "practice.yaml"
    profile.write_text("practice: [a, b\n")
    message = _one_line(cli("build", "--state", "CA", "--practice", profile))
    assert "YAML syntax: did not find expected ',' or ']'" in message


# --- The README's profile keys, generated from the model ------------------------------------

START, END = "<!-- profile-keys:start -->\n", "<!-- profile-keys:end -->"
REGENERATE = "pytest tests/test_cli_guidance.py -k profile_keys --update-golden"


def test_readme_profile_keys_list_every_key_of_the_model(update_golden):
    from consentgen.structure import profile_keys_markdown

    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    section = readme.split("## The practice profile", 1)[1].split("\n## ", 1)[0]
    assert START in section and END in section, "README.md: the profile-keys markers are missing"
    wanted = profile_keys_markdown()
    block = generated_block(readme_path, START, END, wanted, update_golden)
    assert block == wanted, f"README.md's profile key list is out of date; run: {REGENERATE}"
    for key in ("office.devices_protected", "policies.records.retention_note",
                "clinician.license.number", "supervisor.license.state"):  # fmt: skip
        assert f"`{key}`" in block
