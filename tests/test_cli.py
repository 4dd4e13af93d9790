"""The command line as a user meets it: exit codes, stdout vs stderr, files written."""

from __future__ import annotations

import json
import os
import stat

import pytest

from conftest import AS_OF, PROFILE
from consentgen.cli import app

BASE = ("build", "--as-of", AS_OF)


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("consentgen ")


@pytest.mark.parametrize("command", ["build", "init", "list", "show"])
def test_every_command_has_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Usage: consentgen " + command in result.stdout


def test_build_markdown_goes_to_stdout_and_warnings_to_stderr(cli):
    result = cli(*BASE, "--state", "ca")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Informed Consent for Psychotherapy")
    assert "**California**" in result.stdout
    assert "profile value(s) missing" in result.stderr
    assert "clinician.name" in result.stderr
    assert "________" in result.stdout


def test_state_accepts_full_name_any_case(cli):
    assert cli(*BASE, "--state", "new york").stdout == cli(*BASE, "--state", "NY").stdout


def test_full_profile_leaves_no_blanks(cli):
    result = cli(*BASE, "--state", "TX", "--practice", PROFILE, "--client", "A B")
    assert result.exit_code == 0
    assert "missing" not in result.stderr
    assert "Jordan Lee" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--state", "XY"), "unknown state 'XY'; did you mean"),
        (("--state", "Texass"), "unknown state 'Texass'; did you mean TX?"),
        (("--state", "CA", "--as-of", "2026-02-30"), "--as-of '2026-02-30' is not a date"),
        (("--state", "CA", "--guardian", "P"), "--guardian is only for --setting minor, family"),
        (("--state", "CA", "--practice", "missing.yaml"), "missing.yaml: file not found"),
        (("--state", "CA", "-o", "no/such/folder/x.md"), "folder no/such/folder does not exist"),
        (("--state", "CA", "-o", "consent.xyz"), "cannot tell the format from 'consent.xyz'"),
        (("--state", "CA", "--format", "pdf"), "PDF is a binary format; write it to a file"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = cli(*BASE, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_unknown_setting_lists_the_choices(cli):
    result = cli(*BASE, "--state", "CA", "--setting", "triad")
    assert result.exit_code == 2
    for choice in ("individual", "couples", "family", "group", "minor"):
        assert choice in result.stderr


def test_malformed_profile_names_file_line_and_column(cli, tmp_path):
    profile = tmp_path / "practice.yaml"
    profile.write_text("practice:\n  name: Ok\nfees:\n  sesion: 100\n  session_minutes: lots\n")
    result = cli(*BASE, "--state", "CA", "--practice", profile)
    assert result.exit_code == 2
    assert f"{profile}:4:3: unknown key 'sesion'; did you mean 'session'?" in result.stderr
    assert "(and 1 more problem)" in result.stderr


def test_output_file_is_private_and_never_overwritten(cli, tmp_path):
    out = tmp_path / "consent.html"
    result = cli(*BASE, "--state", "CA", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("<!DOCTYPE html>")

    out.write_text("signed copy")
    again = cli(*BASE, "--state", "NY", "-o", out)
    assert again.exit_code == 2
    assert "already exists; use --force" in again.stderr
    assert out.read_text() == "signed copy"

    forced = cli(*BASE, "--state", "NY", "-o", out, "--force")
    assert forced.exit_code == 0
    assert "New York" in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["consent.html"]  # no temporary files left


@pytest.mark.parametrize(
    ("suffix", "start"),
    [
        (".md", "# Informed"),
        (".txt", "Informed Consent"),
        (".json", "{"),
        (".html", "<!DOCTYPE html>"),
    ],
)
def test_format_follows_the_extension(cli, tmp_path, suffix, start):
    out = tmp_path / f"consent{suffix}"
    assert cli(*BASE, "--state", "TX", "-o", out).exit_code == 0
    assert out.read_text().startswith(start)


def test_format_option_overrides_stdout_default(cli):
    result = cli(*BASE, "--state", "TX", "--format", "json")
    data = json.loads(result.stdout)
    assert data["jurisdiction"] == "TX"


def test_json_follows_the_document_contract(cli):
    result = cli(
        *BASE,
        "--state",
        "CA",
        "--setting",
        "couples",
        "--payment",
        "self-pay",
        "--supervisee",
        "--telehealth",
        "--profession",
        "psychologist",
        "--client",
        "A",
        "--client",
        "B",
        "--practice",
        PROFILE,
        "--format",
        "json",
    )
    doc = json.loads(result.stdout)
    for key in ("jurisdiction", "setting", "options", "data_version", "sections", "signatures"):
        assert key in doc
    assert doc["options"] == {
        "payment": "self-pay",
        "supervisee": True,
        "telehealth": True,
        "profession": "psychologist",
    }
    ids = [s["id"] for s in doc["sections"]]
    assert ids[0] == "key_facts" and ids[-1] == "legal_basis"
    for required in (
        "limits_of_confidentiality",
        "child_abuse_reporting",
        "elder_abuse_reporting",
        "duty_to_protect",
        "good_faith_estimate",
        "supervision",
        "couples",
        "technology",
        "telehealth",
        "records",
        "office_privacy",
        "client_rights",
        "emergencies",
    ):
        assert required in ids
    assert "insurance" not in ids
    for section in doc["sections"]:
        assert set(section) >= {"id", "title", "paragraphs", "citations"}
    assert [s["role"] for s in doc["signatures"]] == ["Partner", "Partner", "Therapist"]
    assert len(doc["data_version"]) == 64


def test_same_request_same_bytes(cli):
    args = (
        *BASE,
        "--state",
        "NY",
        "--setting",
        "family",
        "--practice",
        PROFILE,
        "--format",
        "html",
    )
    assert cli(*args).stdout == cli(*args).stdout


def test_init_writes_a_profile_that_builds_without_blanks(cli, tmp_path):
    path = tmp_path / "practice.yaml"
    result = cli("init", path)
    assert result.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    build = cli(*BASE, "--state", "CO", "--practice", path, "--telehealth")
    assert build.exit_code == 0
    assert "missing" not in build.stderr
    supervised = cli(*BASE, "--state", "CO", "--practice", path, "--supervisee")
    assert "missing, printed as blanks to fill in: clinician.registration, clinician.employer" in (
        supervised.stderr
    )
    assert cli("init", path).exit_code == 2  # never overwrites


def test_init_asks_on_request_and_writes_the_answers(cli, tmp_path):
    path = tmp_path / "practice.yaml"
    answers = (
        "\n".join(
            [
                "Calm Harbor: Counseling",
                "Dana Cruz",
                "",
                "therapist",
                "counselor",
                "LPC",
                "00123",
                "TX",
            ]
        )
        + "\n"
    )
    result = cli.runner.invoke(app, ["init", str(path), "--prompt"], input=answers)
    assert result.exit_code == 0, result.stderr
    assert "Choose one of psychologist, counselor, social-worker, mft" in result.stderr
    from consentgen.profile import load

    profile = load(path)
    assert profile.practice.name == "Calm Harbor: Counseling"
    assert profile.clinician.name == "Dana Cruz"
    assert profile.clinician.credentials == "MA, LMFT"  # Enter keeps the example's answer
    assert profile.clinician.profession == "counselor"
    assert profile.clinician.license.number == "00123"
    assert "Practice name" not in result.stdout  # questions go to stderr


def test_list_shows_every_builtin_jurisdiction(cli):
    result = cli("list", "--format", "json")
    rows = json.loads(result.stdout)
    codes = [r["code"] for r in rows]
    assert codes == sorted(codes)
    assert {"CA", "NY", "TX", "FL", "CO"} <= set(codes)
    assert "US" not in codes
    assert all(r["origin"] == "built-in" for r in rows)


def test_show_json_carries_citations(cli):
    data = json.loads(cli("show", "ca", "--format", "json", "--as-of", AS_OF).stdout)
    assert data["code"] == "CA"
    dtp = data["rules"]["duty_to_protect"]
    assert dtp["status"] == "mandatory"
    assert dtp["citations"] and all(c["source_url"].startswith("http") for c in dtp["citations"])
    assert data["rules"]["good_faith_estimate"]["from"] == "US"


def test_show_text(cli):
    result = cli("show", "TX", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "duty_to_protect [permissive] (from TX)" in result.stdout


def test_data_dir_overrides_a_state_and_a_template(cli, tmp_path):
    from conftest import ROOT

    (tmp_path / "jurisdictions").mkdir()
    text = (ROOT / "jurisdictions" / "TX.yaml").read_text()
    (tmp_path / "jurisdictions" / "TX.yaml").write_text(text.replace("name: Texas", "name: Tejas"))
    (tmp_path / "templates" / "sections").mkdir(parents=True)
    (tmp_path / "templates" / "sections" / "consultation.md.j2").write_text("We never consult.\n")
    result = cli(*BASE, "--state", "TX", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "**Tejas**" in result.stdout
    assert "We never consult." in result.stdout
    assert (
        "Tejas data last reviewed 2026-11-25 (from the practice's own data folder)" in result.stdout
    )
    listed = json.loads(cli("list", "--format", "json", "--data-dir", tmp_path).stdout)
    assert {r["code"]: r["origin"] for r in listed}["TX"] == str(tmp_path)


def test_consentgen_path_environment_variable(cli, tmp_path, monkeypatch):
    (tmp_path / "templates" / "sections").mkdir(parents=True)
    (tmp_path / "templates" / "sections" / "consultation.md.j2").write_text("From the env.\n")
    monkeypatch.setenv("CONSENTGEN_PATH", str(tmp_path))
    assert "From the env." in cli(*BASE, "--state", "CA").stdout


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "consentgen", "--version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0
    assert result.stdout.startswith("consentgen ")


def test_coverage_counts_verified_rules(cli):
    data = json.loads(cli("coverage", "--format", "json", "--as-of", AS_OF).stdout)
    rows = {row["code"]: row for row in data["jurisdictions"]}
    # The law itself (TX: permissive) is asserted in tests/law/; here, the report's shape.
    assert set(rows["TX"]["rules"]["duty_to_protect"]) == {"status", "verified", "variants"}
    assert rows["NY"]["rules"]["duty_to_protect"]["variants"][0]["applies_to"] == ["mft"]
    assert rows["CA"]["rules"]["licensing_boards"]["count"] == 4
    totals = data["totals"]["child_abuse_reporting"]
    assert totals["verified"] + totals["unverified"] + totals["missing"] == len(rows)


def test_coverage_table_and_csv(cli):
    table = cli("coverage", "--as-of", AS_OF)
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split()[:4] == ["code", "reviewed", "child", "elder"]
    assert "jurisdictions, law as of 2026-11-25:" in table.stdout
    csv_rows = cli("coverage", "--format", "csv").stdout.splitlines()
    assert csv_rows[0] == "code,name,last_reviewed,rule,status,verified,count"


def test_coverage_reports_a_broken_file_and_lists_the_rest(cli, tmp_path):
    (tmp_path / "jurisdictions").mkdir()
    (tmp_path / "jurisdictions" / "ZZ.yaml").write_text("code: ZZ\nname: [\n")
    result = cli("coverage", "--data-dir", tmp_path)
    assert result.exit_code == 1
    assert "ZZ.yaml:3:1: YAML syntax" in result.stderr
    assert any(line.startswith("CA ") for line in result.stdout.splitlines())
    assert any(line.startswith("ZZ ") and "ERROR" in line for line in result.stdout.splitlines())
