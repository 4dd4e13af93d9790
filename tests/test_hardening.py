"""Hostile and broken input: one clear line and exit 2, never a traceback, a leak or a lost file."""

from __future__ import annotations

import errno
import json
import os
import socket
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AS_OF, PROFILE
from consentgen import Request, batch, build_document, render
from consentgen.errors import UserError
from consentgen.lint import Config, lint_paths

BUILD = ("build", "--state", "CA", "--as-of", AS_OF)


def _one_clean_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"practice:\n  name: [unclosed\n", "practice.yaml:3:1: YAML syntax"),
        (b"practice:\n  name: 'trunc", "practice.yaml:2:15: YAML syntax: found unexpected end"),
        (b"\xff\xfe\x00p\x00r", "practice.yaml: is a binary file, not YAML"),
        (b"practice:\n  name: caf\xe9\n", "practice.yaml:2:1: is not UTF-8 text"),
        (b"- a\n- list\n", "practice.yaml:1:1: the file must be a mapping of keys, not a list"),
        (b"just a string\n", "practice.yaml:1:1: the file must be a mapping of keys, not 'just"),
        (b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b, *b]\n", "anchors and aliases"),
        (b"fees:\n  session: -5\n", "practice.yaml:2:12: fees.session must be between 0"),
        (b"practice: {name: 7}\n", "practice.name must be text, not the number 7"),
        (b"clinician: {profession: therapist}\n", "clinician.profession must be one of"),
    ],
)  # fmt: skip
def test_bad_profiles(cli, tmp_path, content, expected):
    path = tmp_path / "practice.yaml"
    path.write_bytes(content)
    assert expected in _one_clean_line(cli(*BUILD, "--practice", path))


def test_a_huge_file_is_refused_before_it_is_read(cli, tmp_path):
    path = tmp_path / "practice.yaml"
    path.write_bytes(b"# " + b"x" * (3 * 1024 * 1024) + b"\n")
    assert "file is larger than 2048 KiB" in _one_clean_line(cli(*BUILD, "--practice", path))


def _profile_leaves(cls: type, prefix: str = "") -> list[tuple[str, type]]:
    """Every leaf field of the practice profile, with its type: `clinician.license.number`..."""
    import dataclasses
    import typing

    from consentgen import model

    leaves = []
    for name, tp in typing.get_type_hints(cls, vars(model)).items():
        inner = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
        if dataclasses.is_dataclass(inner[0]) and typing.get_origin(tp) is not tuple:
            leaves += _profile_leaves(inner[0], f"{prefix}{name}.")
        else:
            leaves.append((f"{prefix}{name}", tp))
    return leaves


def _wrong_value(tp: object) -> str:
    text = str(tp)
    if "bool" in text:
        return "'maybe'"
    if "int" in text or "float" in text:
        return "lots"
    if "tuple" in text:
        return "{a: 1}"
    return "[1, 2]"


PROFILE_LEAVES = _profile_leaves(__import__("consentgen.model").model.PracticeProfile)


def test_every_profile_field_is_covered():
    assert len(PROFILE_LEAVES) > 30


@pytest.mark.parametrize(("field", "tp"), PROFILE_LEAVES, ids=[f for f, _ in PROFILE_LEAVES])
def test_a_wrong_type_in_any_profile_field(cli, tmp_path, field, tp):
    *parents, leaf = field.split(".")
    text, indent = "", ""
    for parent in parents:
        text += f"{indent}{parent}:\n"
        indent += "  "
    path = tmp_path / "practice.yaml"
    path.write_text(f"{text}{indent}{leaf}: {_wrong_value(tp)}\n")
    line = len(parents) + 1
    message = _one_clean_line(cli(*BUILD, "--practice", path))
    assert f"practice.yaml:{line}:" in message and f"{field} must be" in message


def test_unknown_option_and_value(cli):
    assert cli(*BUILD, "--colour", "blue").exit_code == 2
    assert cli(*BUILD, "--payment", "barter").exit_code == 2


def test_full_disk_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    out = tmp_path / "consent.md"
    out.write_text("the signed copy")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    message = _one_clean_line(cli(*BUILD, "-o", out, "--force"))
    assert "No space left on device; nothing was changed there" in message
    assert out.read_text() == "the signed copy"
    assert [p.name for p in tmp_path.iterdir()] == ["consent.md"]


def test_output_symlink_is_not_followed(cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    link = tmp_path / "consent.md"
    link.symlink_to(victim)
    assert "symbolic link" in _one_clean_line(cli(*BUILD, "-o", link, "--force"))
    assert victim.read_text() == "keep"


@pytest.mark.parametrize(
    "name",
    ["דנה כהן", "محمد", "Zoë Ç\u0327", "A\u0301\u0302\u0303", "🧠💬 Sam", "\u202eevil\u202c",
     "x" * 20_000, "Robert'); DROP TABLE clients;--", "{% raw %}", "<img src=x onerror=alert(1)>"],
)  # fmt: skip
def test_any_name_builds_and_stays_literal(cli, name, tmp_path):
    out = tmp_path / "c.html"
    result = cli(*BUILD, "--client", name, "-o", out)
    assert result.exit_code == 0
    assert name[:50] not in result.stderr  # names never reach messages
    html = out.read_text()
    assert "<img src=x" not in html
    markdown = cli(*BUILD, "--client", name).stdout
    assert markdown.count("**Client:**") == 1


def test_unsafe_user_template_is_refused(cli, tmp_path):
    folder = tmp_path / "templates" / "sections"
    folder.mkdir(parents=True)
    (folder / "consultation.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    message = _one_clean_line(cli(*BUILD, "--data-dir", tmp_path))
    assert "tried an unsafe operation and was refused" in message


def test_values_are_never_templates(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("practice:\n  name: '{{ 7*7 }}{% for x in [1] %}loop{% endfor %}'\n")
    doc = build_document(Request(state="CA", clients=("{{ 7*7 }}",), as_of=None), practice=profile)
    md = render(doc, "md")
    assert "49" not in md.split("## Who I am")[1].split("##")[0]
    assert "loop" not in md.replace("\\{% for x in \\[1\\] %\\}loop", "")


def test_no_network_during_build_lint_and_batch(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    for name in ("connect", "connect_ex", "sendto", "sendall"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    doc = build_document(Request(state="WA", setting="group"), practice=PROFILE)
    for fmt in ("md", "html", "txt", "json", "pdf", "docx"):
        assert render(doc, fmt)
    problems = lint_paths([PROFILE], config=Config(render_matrix=False))
    assert [p for p in problems if p.severity == "error"] == []
    result = batch([{"id": "n1", "state": "NM", "setting": "family", "clients": "A;B"}],
                   tmp_path / "out", formats=("md", "pdf"), jobs=1)  # fmt: skip
    assert result.failed == []


def test_no_client_name_in_batch_files_names_manifest_or_messages(cli, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("id,state,setting,clients\nok,CA,individual,Secret Name\n"
                      "bad,ZZ,individual,Secret Other\n")  # fmt: skip
    result = cli("batch", source, "--out-dir", tmp_path / "out")
    assert "Secret" not in result.stderr + result.stdout
    names = " ".join(p.name for p in (tmp_path / "out").iterdir())
    assert "Secret" not in names
    assert "Secret" not in (tmp_path / "out" / "manifest.json").read_text()


text_fields = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    state=st.sampled_from(["CA", "ny", "Texas", "DC", "zz", ""]),
    clients=st.lists(text_fields, max_size=3),
    guardians=st.lists(text_fields, max_size=2),
    practice_name=text_fields,
)
def test_api_any_text_builds_or_fails_cleanly(tmp_path, state, clients, guardians, practice_name):
    profile = tmp_path / "p.yaml"
    profile.write_text(json.dumps({"practice": {"name": practice_name}}), encoding="utf-8")
    request = Request(state=state, setting="minor", clients=tuple(clients),
                      guardians=tuple(guardians), as_of=None)  # fmt: skip
    try:
        doc = build_document(request, practice=profile)
    except UserError as exc:
        assert "\n" not in exc.message
        # The same failure without the names: a name that is part of its fixed words ("empt"
        # in "is empty") is not a leak.
        neutral = Request(state=state, setting="minor", clients=("Qx",) * len(clients),
                          guardians=("Qx",) * len(guardians), as_of=None)  # fmt: skip
        try:
            build_document(neutral, practice=profile)
            fixed = ""
        except UserError as again:
            fixed = again.message
        for name in clients + guardians:
            if len(name.strip()) > 3 and name not in fixed:
                assert name not in exc.message
        return
    first, second = render(doc, "md"), render(doc, "md")
    assert first == second
    body = first.split("## Signatures")[0]
    assert "{{" not in body and "{%" not in body


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.lists(st.text(alphabet=string.printable, max_size=12), min_size=4, max_size=8))
def test_cli_batch_any_row_is_built_or_reported(cli, tmp_path, cells):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "state", "setting", "clients"])
    writer.writerow(cells)
    source = tmp_path / "c.csv"
    source.write_text(buffer.getvalue())
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--force")
    written = sorted(out.glob("*.md")) if out.exists() else []
    if result.exit_code == 0:  # built (one document, in the manifest), or a blank row skipped
        assert len(written) == (0 if all(not c.strip() for c in cells) else 1)
        assert all(p.name in (out / "manifest.json").read_text() for p in written)
    else:  # reported: one line per problem, naming the row's line when it is the row's
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert errors, result.stderr
        assert result.exit_code == 2 or all(line.startswith(f"error: {source}:") for line in errors)
        assert written == []
