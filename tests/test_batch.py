"""consentgen batch and the Python API for onboarding: files, manifest, failures, formats."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT
from consentgen import batch

STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
SETTINGS = ["individual", "couples", "family", "group", "minor"]
HEADER = "id,state,setting,clients,payment,supervisee,telehealth,guardian,profession,as_of\n"


def _csv(tmp_path: Path, body: str, name: str = "clients.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + (HEADER + body).encode())
    return path


def test_every_state_and_setting_in_one_batch(tmp_path):
    lines = [f"{s}-{t},{s},{t},Client {i};Other {i},,,,,,{AS_OF}"
             for i, (s, t) in enumerate((s, t) for s in STATES for t in SETTINGS)]  # fmt: skip
    source = _csv(tmp_path, "\n".join(lines) + "\n", bom=True)
    out = tmp_path / "out"
    result = batch(source, out, practice=PROFILE, jobs=2)
    assert result.failed == []
    assert len(result.written) == len(STATES) * len(SETTINGS)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    raw = (out / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    assert manifest["format"] == 2 and len(manifest["documents"]) == len(lines)
    # Each distinct section text once; each document points into that table.
    table = manifest["sections"]
    assert len({tuple(pair) for pair in table}) == len(table)
    assert all(isinstance(i, int) and 0 <= i < len(table)
               for entry in manifest["documents"] for i in entry["sections"])  # fmt: skip
    assert len(raw) / len(lines) < 1024  # bytes a document (issue 15)
    entry = manifest["documents"][0]
    assert set(entry) == {"id", "file", "sha256", "data_version", "state", "setting", "options",
                          "as_of", "consentgen_version", "sections",
                          "practice_sha256", "inputs_hmac"}  # fmt: skip
    sections = dict(tuple(table[i]) for i in entry["sections"])
    assert set(sections) >= {"key_facts", "duty_to_protect", "legal_basis"}
    assert (
        sections
        == result.written[[e["file"] for e in result.written].index(entry["file"])]["sections"]
    )
    assert "Client" not in raw.decode()  # no client names in the manifest
    for entry in manifest["documents"]:
        path = out / entry["file"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert (out / "CA-couples_CA_couples.md").read_text().count("Signature:") == 3
    assert not [p for p in out.iterdir() if p.name.startswith(".consentgen-")]


def test_bad_rows_are_reported_by_line_and_id_and_the_rest_are_built(cli, tmp_path):
    body = ("ok1,TX,individual,Alex Secret,,,,,,\n"
            "bad1,XX,individual,Bo Secret,,,,,,\n"
            "bad2,TX,triad,Cy Secret,,,,,,\n"
            "bad3,TX,individual,Di Secret,,perhaps,,,,\n"
            ",TX,individual,Ed Secret,,,,,,\n"
            "ok1,NY,individual,Fa Secret,,,,,,\n"
            "../escape,TX,individual,Gi Secret,,,,,,\n"
            "bad4,TX,individual,Ha Secret,,,,,,2026-02-30\n"
            "bad5,TX,individual,Io Secret,,,,,,,too,many\n")  # fmt: skip
    source = _csv(tmp_path, body)
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    shown = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # not .lock, .key
    assert shown == ["manifest.json", "ok1_TX_individual.md"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert [e.split(":")[2].strip() for e in errors] == ["3", "4", "5", "6", "7", "8", "9", "10"]
    assert "id bad1: column 'state' is not a state we have a file for" in result.stderr
    assert "id ok1: this id is used by an earlier row" in result.stderr
    assert "because it names the document's file" in result.stderr
    assert "Secret" not in result.stderr and "Secret" not in result.stdout
    assert "1 document(s) written, 0 skipped (already there), 8 row(s) failed" in result.stderr


def test_a_missing_column_stops_before_any_work(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text("id,state,clients\nx,CA,Alex\n")
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out)
    assert result.exit_code == 2
    assert "clients.csv:1: missing column(s) setting" in result.stderr
    assert not out.exists()


def test_unknown_columns_are_reported(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text("id,state,setting,clients,email\nx,CA,individual,Alex,a@b.c\n")
    result = cli("batch", source, "--out-dir", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "unknown column(s) ignored: email" in result.stderr


def test_never_overwrites_without_force_and_resumes_by_checksum(cli, tmp_path):
    source = _csv(tmp_path, "a,CA,individual,Alex,,,,,,\nb,NY,couples,Sam;Kim,,,,,,\n")
    out = tmp_path / "out"
    assert cli("batch", source, "--out-dir", out, "--as-of", AS_OF).exit_code == 0
    signed = out / "a_CA_individual.md"
    signed.write_text("a signed copy")  # changed since the manifest recorded it
    again = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert again.exit_code == 1 and "already exists; use --force or --resume" in again.stderr
    assert signed.read_text() == "a signed copy"
    resumed = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "--resume")
    assert "1 skipped" in resumed.stderr  # b is intact
    assert "a_CA_individual.md already exists; use --force to replace it" in resumed.stderr
    assert signed.read_text() == "a signed copy"
    forced = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "--force")
    assert forced.exit_code == 0 and signed.read_text().startswith("# Informed Consent")
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["file"] for e in manifest["documents"]} == {"a_CA_individual.md",
                                                          "b_NY_couples.md"}  # fmt: skip


def test_symlinks_in_the_output_folder_are_not_followed(cli, tmp_path):
    source = _csv(tmp_path, "a,CA,individual,Alex,,,,,,\n")
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "a_CA_individual.md").symlink_to(victim)
    result = cli("batch", source, "--out-dir", out, "--force", "--as-of", AS_OF)
    assert result.exit_code == 1 and "is a symbolic link" in result.stderr
    assert victim.read_text() == "keep me"


def test_jsonl_and_yes_no_spellings(tmp_path):
    rows = [{"id": "j1", "state": "co", "setting": "individual", "clients": ["Alex", "Sam"],
             "supervisee": "TRUE", "telehealth": "y", "payment": "Self-Pay"},
            {"id": "j2", "state": "Texas", "setting": "minor", "clients": "Riley",
             "guardian": "Pat;Lee", "telehealth": 0}]  # fmt: skip
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = batch(source, tmp_path / "out", as_of=__import__("datetime").date(2026, 11, 25))
    assert result.failed == []
    by_id = {e["id"]: e for e in result.written}
    assert by_id["j1"]["options"] == {"payment": "self-pay", "supervisee": True,
                                      "telehealth": True, "profession": None}  # fmt: skip
    assert by_id["j2"]["file"] == "j2_TX_minor.md"
    text = (tmp_path / "out" / "j2_TX_minor.md").read_text()
    assert text.count("**Parent or guardian:**") == 2


def test_api_takes_rows_as_dicts(tmp_path):
    result = batch([{"id": "d1", "state": "FL", "setting": "group", "clients": "Alex"}],
                   tmp_path / "out", formats=("md", "json"))  # fmt: skip
    assert sorted(e["file"] for e in result.written) == ["d1_FL_group.json", "d1_FL_group.md"]


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_pdf_and_docx_hold_the_document_and_are_reproducible(tmp_path):
    import docx
    import pypdf

    source = _csv(tmp_path, f"p1,CA,couples,Alex Doe;Sam Roe,self-pay,,yes,,,{AS_OF}\n")
    first = batch(source, tmp_path / "one", formats=("pdf", "docx"), practice=PROFILE)
    second = batch(source, tmp_path / "two", formats=("pdf", "docx"), practice=PROFILE)
    assert first.failed == [] and second.failed == []
    for name in ("p1_CA_couples.pdf", "p1_CA_couples.docx"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    reader = pypdf.PdfReader(tmp_path / "one" / "p1_CA_couples.pdf")
    pdf_text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Informed Consent for Psychotherapy" in pdf_text
    assert "Good Faith Estimate" in pdf_text and "Alex Doe" in pdf_text
    assert reader.metadata.title == "Informed Consent for Psychotherapy: California"
    document = docx.Document(str(tmp_path / "one" / "p1_CA_couples.docx"))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Informed Consent for Psychotherapy"
    assert "Signatures" in texts and any("Sam Roe" in t for t in texts)
    assert any(p.style.name == "List Bullet" for p in document.paragraphs)
    assert document.core_properties.created.date().isoformat() == AS_OF


@pytest.mark.parametrize(
    ("module", "fmt", "expected"),
    [("weasyprint", "pdf", "error: PDF output needs WeasyPrint: pip install 'weasyprint>=62' (in a "
      "consentgen checkout: pip install '.[pdf]')\n"),
     ("docx", "docx", "error: DOCX output needs python-docx: pip install 'python-docx>=1.1' (in a "
      "consentgen checkout: pip install '.[docx]')\n")],
)  # fmt: skip
def test_a_missing_extra_names_the_pip_command(cli, tmp_path, monkeypatch, module, fmt, expected):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    result = cli("build", "--state", "CA", "-o", tmp_path / f"c.{fmt}")
    assert result.exit_code == 2
    assert result.stderr == expected
    assert not (tmp_path / f"c.{fmt}").exists()
    source = _csv(tmp_path, "a,CA,individual,Alex,,,,,,\n")
    batch_result = cli("batch", source, "--out-dir", tmp_path / "out", "--format", f"md,{fmt}")
    assert batch_result.exit_code == 2 and batch_result.stderr == expected
    assert not (tmp_path / "out").exists()


def test_pdf_without_pango_names_the_system_package(cli, tmp_path):
    """On a machine without Pango, importing WeasyPrint fails with OSError (cffi cannot load
    the library): one line naming the package for each system, exit 2, nothing written."""
    script = tmp_path / "run.py"
    script.write_text(
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def fake(name, *args, **kwargs):\n"
        "    if name == 'weasyprint':\n"
        "        raise OSError(\"cannot load library 'libgobject-2.0-0': no such file\")\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = fake\n"
        "from consentgen.cli import main\n"
        "sys.argv = ['consentgen', *sys.argv[1:]]\n"
        "main()\n"
    )
    for args in (["build", "--state", "CA", "-o", str(tmp_path / "c.pdf")],
                 ["batch", str(_csv(tmp_path, "a,CA,individual,Alex,,,,,,\n")), "--out-dir",
                  str(tmp_path / "out"), "--format", "pdf"]):  # fmt: skip
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              text=True, check=False)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "needs the Pango library" in done.stderr
        assert "apt install libpango-1.0-0" in done.stderr and "brew install pango" in done.stderr
    assert not (tmp_path / "c.pdf").exists() and not (tmp_path / "out").exists()


def test_not_utf8_input(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_bytes(HEADER.encode() + "a,CA,individual,Zoë\n".encode("latin-1"))
    result = cli("batch", source, "--out-dir", tmp_path / "out")
    assert result.exit_code == 2 and "clients.csv:2: not UTF-8 text" in result.stderr


def test_out_dir_that_is_a_file(cli, tmp_path):
    source = _csv(tmp_path, "a,CA,individual,Alex,,,,,,\n")
    blocker = tmp_path / "out"
    blocker.write_text("x")
    result = cli("batch", source, "--out-dir", blocker)
    assert result.exit_code == 2 and "is a file; --out-dir must be a folder" in result.stderr


def test_progress_is_plain_when_not_a_terminal(cli, tmp_path):
    source = _csv(tmp_path, "".join(f"r{i},CA,individual,A,,,,,,\n" for i in range(12)))
    result = cli("batch", source, "--out-dir", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 0
    assert result.stderr.strip().endswith(f"manifest: {tmp_path / 'out' / 'manifest.json'}")
    assert "\x1b[" not in result.stderr


def test_a_family_row_with_a_guardian_adds_the_minors_section_and_signature(tmp_path):
    rows = [{"id": "f1", "state": "TX", "setting": "family", "clients": "Ana; Mia",
             "guardian": "Ana"},
            {"id": "i1", "state": "TX", "setting": "individual", "clients": "Bo",
             "guardian": "Cy"}]  # fmt: skip
    result = batch(rows, tmp_path / "out", as_of=__import__("datetime").date(2026, 11, 25))
    assert [f.id for f in result.failed] == ["i1"]
    assert "guardian is only for the minor, family and group settings" in result.failed[0].message
    text = (tmp_path / "out" / "f1_TX_family.md").read_text()
    assert "## When a minor takes part" in text
    assert text.count("**Parent or guardian of a minor member:** Ana") == 1
