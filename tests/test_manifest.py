"""A batch's manifest (consentgen.manifest): each distinct section text once, a document a line,
read back the same whether it was written by this consentgen, an older one (format 1) or
reformatted by someone; anything else is one clean error."""

from __future__ import annotations

import json

import pytest

from consentgen.errors import UserError
from consentgen.manifest import MANIFEST, Manifest, Written, read

SHA = "a" * 64


def _entry(i: int, sections: dict[str, str]) -> dict:
    return {"id": f"r{i}", "file": f"r{i}_CA_individual.md", "sha256": f"{i:064x}",
            "data_version": "d" * 64, "state": "CA", "setting": "individual",
            "options": {"payment": "insurance", "supervisee": False, "telehealth": False,
                        "profession": None},
            "as_of": "2026-11-25", "consentgen_version": "0.1.0", "sections": sections,
            "practice_sha256": "p" * 64, "inputs_hmac": f"{i + 1:064x}"}  # fmt: skip


ENTRIES = [_entry(i, {"key_facts": SHA, "records": f"{i % 3:064x}"}) for i in range(2500)]


def _written(tmp_path) -> Manifest:
    manifest = Manifest()
    for entry in reversed(ENTRIES):
        manifest.add(entry)
    manifest.write(tmp_path)
    return manifest


def test_each_section_text_once_and_a_document_a_line(tmp_path):
    manifest = _written(tmp_path)
    raw = (tmp_path / MANIFEST).read_bytes()
    data = json.loads(raw)
    assert data["format"] == 2
    assert sorted(map(tuple, data["sections"])) == sorted(
        {("key_facts", SHA)} | {("records", f"{k:064x}") for k in range(3)}
    )
    assert len(raw.splitlines()) == 1 + len(ENTRIES) + 1
    assert [d["id"] for d in data["documents"]] == sorted(e["id"] for e in ENTRIES)
    assert len(raw) / len(ENTRIES) < 1024
    assert manifest.get("r7_CA_individual.md") == ENTRIES[7]
    assert manifest.checksums("r7_CA_individual.md") == (
        ENTRIES[7]["sha256"],
        ENTRIES[7]["inputs_hmac"],
    )


def test_read_gives_back_what_was_written_in_any_layout(tmp_path):
    _written(tmp_path)
    by_file = {e["file"]: e for e in ENTRIES}
    assert {e["file"]: e for e in read(tmp_path).entries()} == by_file
    data = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps(data, indent=2))  # someone reformatted it
    assert {e["file"]: e for e in read(tmp_path).entries()} == by_file
    (tmp_path / MANIFEST).write_text(json.dumps({"documents": ENTRIES}, indent=2))  # format 1
    assert {e["file"]: e for e in read(tmp_path).entries()} == by_file


@pytest.mark.parametrize("damage", ["cut", "index", "table", "format", "after"])
def test_a_damaged_manifest_is_one_clean_error(tmp_path, damage):
    _written(tmp_path)
    path = tmp_path / MANIFEST
    text = path.read_text()
    broken = {
        "cut": text[: len(text) // 2],
        "index": text.replace('"sections":[0', '"sections":[99999', 1),
        "table": text.replace('"sections": [[', '"sections": [[7, ', 1),
        "format": text.replace('{"format": 2', '{"format": 9', 1),
        "after": text + "{}\n",
    }[damage]
    assert broken != text
    path.write_text(broken)
    with pytest.raises(UserError, match="is not a consentgen manifest"):
        read(tmp_path)


def test_written_is_a_list_of_whole_entries_made_on_demand():
    written = Written()
    written.extend(ENTRIES[:3])
    assert len(written) == 3 and written[1] == ENTRIES[1] and list(written) == ENTRIES[:3]
    assert written[-1]["sections"] == ENTRIES[2]["sections"]
