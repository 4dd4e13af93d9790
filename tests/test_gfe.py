"""`consentgen gfe`: bad input gets one line and exit 2, nothing is overwritten; the estimate's
sums, its formats, and no client name in any cache."""

from __future__ import annotations

import json

import pytest

from conftest import TESTS

PRACTICE = TESTS / "fixtures" / "practices" / "co_lpc_selfpay.yaml"
BASE = ("gfe", "--practice", PRACTICE, "--state", "CO", "--as-of", "2026-11-27")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--service", "99999"), "service 99999 is not in the profile's fees.services"),
        (("--service", "90837 times 3"), "--service '90837 times 3': give a code"),
        (("--service", "90837x0"), "the number of sessions must be at least 1"),
        (("--months", "13"), "--months"),
        (("--diagnosis", "anxiety"), "is not an ICD-10-CM code"),
        (("--birth-date", "14/03/1991"), "--birth-date '14/03/1991' is not a date"),
        (("--format", "pdf"), "PDF is a binary format"),
        (("--format", "docx"), "--format docx is not one of md, html, json, pdf"),
        (("--client", "Ann\x1b[31m"), "--client holds"),
        (("--as-of", "2021-12-31"), "no good faith estimate rule is in force on 2021-12-31"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    result = cli(*BASE, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Ann" not in result.stderr  # a client's name never reaches an error


def test_a_profile_without_services_is_refused(cli, tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("practice: {name: X}\n", encoding="utf-8")
    result = cli("gfe", "--practice", profile, "--state", "CA")
    assert result.exit_code == 2
    assert "add fees.services" in result.stderr


def test_json_sums_and_blanks(cli, tmp_path):
    result = cli(*BASE, "--service", "90791", "--service", "90837x23", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(i["code"], i["count"], i["total"]) for i in data["items"]] == [
        ("90791", 1, 175), ("90837", 23, 3450)]  # fmt: skip
    assert data["total"] == 3625
    assert data["dispute_threshold"] == 400 and data["issued"] == "2026-11-27"
    assert data["missing"] == []


def test_missing_npi_is_a_blank_and_a_warning(cli, tmp_path):
    profile = tmp_path / "p.yaml"
    text = PRACTICE.read_text(encoding="utf-8").replace('  npi: "1669584732"\n', "")
    profile.write_text(text, encoding="utf-8")
    result = cli("gfe", "--practice", profile, "--state", "CO")
    assert result.exit_code == 0
    assert "**National Provider Identifier (NPI):** ________" in result.stdout
    assert "practice.npi" in result.stderr


def test_an_existing_file_is_kept_without_force(cli, tmp_path):
    out = tmp_path / "estimate.html"
    out.write_text("mine", encoding="utf-8")
    result = cli(*BASE, "-o", out)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine"
    assert cli(*BASE, "-o", out, "--force").exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "<table>" in html and "<title>Good Faith Estimate</title>" in html


def test_the_client_name_is_escaped_and_never_cached(cli, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(cache))
    out = tmp_path / "e.html"
    result = cli(*BASE, "--client", "Zed <b>Quill*", "-o", out)
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "Zed &lt;b&gt;Quill*" in html and "<b>Quill" not in html
    for path in cache.rglob("*"):
        if path.is_file():
            assert b"Quill" not in path.read_bytes(), path
