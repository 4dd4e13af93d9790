"""When the law changes: diff between dates, recheck of a batch, and the law's changelog."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT

STAGED = """\
code: ZZ
name: Zedland
last_reviewed: 2026-11-01
rules:
  duty_to_protect:
    status: mandatory
    summary: From 2030 a therapist must warn the person threatened and tell the police.
    discharge: [warn the person threatened, tell the police]
    effective: 2030-01-01
    citations: [{cite: "Zz. Laws 2029, ch. 7", source_url: "https://law.example.org/2029-7",
                 read: primary}]
    verified: true
    history:
      - effective: 2001-01-01
        status: permissive
        summary: A therapist may warn the person threatened.
        citations: [{cite: "Zz. Stat. § 1", source_url: "https://law.example.org/1", read: primary}]
        verified: true
  child_abuse_reporting:
    status: mandatory
    summary: Therapists must report suspected child abuse within 48 hours.
    reportable: suspected abuse of a child under 16
    citations: [{cite: "Zz. Stat. § 2", source_url: "https://law.example.org/2", read: primary}]
    verified: true
"""


@pytest.fixture
def zedland(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "jurisdictions").mkdir(parents=True)
    (data / "jurisdictions" / "ZZ.yaml").write_text(STAGED)
    return data


def test_diff_shows_new_yorks_2013_change_with_its_rule(cli):
    result = cli("diff", "--state", "NY", "--from", "2012-06-01", "--to", "2026-11-25",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 1
    sections = {s["id"]: s for s in json.loads(result.stdout)["sections"]}
    duty = sections["duty_to_protect"]
    assert duty["change"] == "changed"
    assert "+If you tell me you intend to seriously harm another person, the law requires" \
        in duty["diff"]  # fmt: skip
    rule = next(r for r in duty["rules"] if r["rule"] == "duty_to_protect")
    assert (rule["before"]["status"], rule["status"]) == ("permissive", "mandatory")
    assert rule["effective"] == "2013-03-16"
    assert any("Mental Hyg. Law § 9.46" in c["cite"] for c in rule["citations"])
    text = cli("diff", "--state", "NY", "--from", "2012-06-01", "--to", "2026-11-25").stdout
    assert (
        text.startswith("# NY individual:") and "\n--- duty_to_protect as of 2012-06-01\n" in text
    )
    assert "# rule duty_to_protect: permissive -> mandatory, effective 2013-03-16;" in text


def test_no_difference_exits_0(cli):
    result = cli("diff", "--state", "TX", "--from", "2026-01-01", "--to", "2026-06-01")
    assert result.exit_code == 0
    assert "0 section(s) differ" in result.stdout


def test_staged_change_shows_in_changes_and_diff(cli, zedland):
    changes = cli("changes", "--since", "2026-01-01", "--state", "ZZ", "--data-dir", zedland,
                  "--format", "json", "--as-of", "2026-11-27")  # fmt: skip
    found = json.loads(changes.stdout)
    assert [(c["rule"], c["change"], c["date"]) for c in found] == [
        ("duty_to_protect", "staged", "2030-01-01")
    ]
    assert found[0]["citations"][0]["cite"] == "Zz. Laws 2029, ch. 7"
    diff = cli("diff", "--state", "ZZ", "--from", "2026-11-25", "--to", "2030-01-01",
               "--data-dir", zedland, "--format", "json")  # fmt: skip
    assert [s["id"] for s in json.loads(diff.stdout)["sections"]] == [
        "key_facts",
        "duty_to_protect",
    ]


def _batch(cli, tmp_path: Path, zedland: Path) -> Path:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,state,setting,clients,as_of\n"
                    "z1,ZZ,individual,Secret Person,2026-11-25\n"
                    "z2,ZZ,couples,Secret One;Secret Two,2026-11-25\n")  # fmt: skip
    out = tmp_path / "out"
    assert cli("batch", rows, "--out-dir", out, "--data-dir", zedland).exit_code == 0
    return out / "manifest.json"


def test_recheck_finds_documents_a_law_change_affects(cli, tmp_path, zedland):
    manifest = _batch(cli, tmp_path, zedland)
    before = cli("recheck", manifest, "--as-of", "2029-12-31", "--data-dir", zedland)
    assert before.exit_code == 0
    assert "0 of 2 document(s) need re-consent as of 2029-12-31" in before.stdout
    after = cli("recheck", manifest, "--as-of", "2030-01-02", "--data-dir", zedland,
                "--format", "json")  # fmt: skip
    assert after.exit_code == 1
    report = json.loads(after.stdout)
    assert report["needing_reconsent"] == 2
    first = report["documents"][0]
    assert first["status"] == "changed" and "duty_to_protect" in first["sections"]
    reason = next(r for r in first["reasons"] if r["rule"] == "duty_to_protect")
    assert reason["kind"] == "law changed" and reason["effective"] == "2030-01-01"
    everything = (
        after.stdout
        + cli(
            "recheck", manifest, "--as-of", "2030-01-02", "--data-dir", zedland, "--format", "csv"
        ).stdout
    )
    assert "Secret" not in everything  # no client names in any report


def test_a_data_correction_counts_even_when_no_date_moved(cli, tmp_path, zedland):
    manifest = _batch(cli, tmp_path, zedland)
    path = zedland / "jurisdictions" / "ZZ.yaml"
    path.write_text(path.read_text().replace(
        "    reportable: suspected abuse of a child under 16\n",
        "    reportable: suspected abuse of a child under 18\n"
        "    revised: 2026-12-01\n"))  # fmt: skip
    report = json.loads(cli("recheck", manifest, "--as-of", "2026-12-02", "--data-dir", zedland,
                            "--format", "json").stdout)  # fmt: skip
    reasons = report["documents"][0]["reasons"]
    assert {"rule": "child_abuse_reporting", "kind": "data corrected"}.items() <= next(
        r for r in reasons if r["rule"] == "child_abuse_reporting"
    ).items()
    listed = cli("changes", "--since", "2026-11-30", "--state", "ZZ", "--data-dir", zedland)
    assert "2026-12-01  ZZ  child_abuse_reporting [mandatory]  revised" in listed.stdout


def test_recheck_with_the_batch_file_writes_beside_never_over(cli, tmp_path, zedland):
    manifest = _batch(cli, tmp_path, zedland)
    old = (manifest.parent / "z1_ZZ_individual.md").read_bytes()
    result = cli("recheck", manifest, "--as-of", "2030-01-02", "--data-dir", zedland,
                 "--batch", tmp_path / "rows.csv")  # fmt: skip
    assert result.exit_code == 1
    assert (manifest.parent / "z1_ZZ_individual.md").read_bytes() == old
    new = (manifest.parent / "z1_ZZ_individual.2030-01-02.md").read_text()
    assert "the law requires me to act" in new and "Secret Person" in new
    again = cli("recheck", manifest, "--as-of", "2030-01-02", "--data-dir", zedland)
    assert again.exit_code == 0  # the newest document of each id is now current


def test_recheck_of_something_that_is_not_a_manifest(cli, tmp_path):
    bogus = tmp_path / "manifest.json"
    bogus.write_text("[]")
    result = cli("recheck", bogus)
    assert result.exit_code == 2 and "is not a consentgen manifest" in result.stderr


def test_changes_lists_real_history(cli):
    result = cli("changes", "--since", "2013-01-01", "--state", "NY", "--format", "json")
    found = {(c["rule"], c["date"]) for c in json.loads(result.stdout)}
    assert ("duty_to_protect", "2013-03-16") in found


def test_staging_example_in_the_readme_is_a_valid_file(tmp_path):
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```yaml\n# jurisdictions/ZZ.yaml, staged\n", 1)[1].split("```", 1)[0]
    (tmp_path / "jurisdictions").mkdir()
    shutil.copy(ROOT / "jurisdictions" / "US.yaml", tmp_path / "jurisdictions" / "US.yaml")
    (tmp_path / "jurisdictions" / "ZZ.yaml").write_text("code: ZZ\nname: Zedland\n"
                                                         "last_reviewed: 2026-11-01\nrules:\n"
                                                         + example)  # fmt: skip
    from consentgen.jurisdictions import load_file

    assert load_file(tmp_path / "jurisdictions" / "ZZ.yaml", "test").jurisdiction.code == "ZZ"
