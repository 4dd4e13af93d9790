"""Hostile input and the tool's own output (issue 10, medium and low findings).

Every bad input is one clean line on stderr and exit code 2 (1 for `recheck` findings); nothing
taken from input reaches a terminal with its control characters live; CSV cells are never
formulas; GitHub annotations are escaped as workflow commands require; pipes, devices and
paths too long for the system are refused, never read forever or turned into a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE

ESC = "\x1b]0;pwn\x07"  # sets a terminal's title; a terminal must never receive it from input
LONG_NAME = "a" * 300  # longer than NAME_MAX (255)
LONG_PATH = "/".join(["d" * 200] * 25)  # every part short enough, the whole longer than PATH_MAX


def _one_clean_line(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    return result.stderr


def _run(
    *args: str | Path, cwd: Path, timeout: float = 30, **kwargs
) -> subprocess.CompletedProcess:
    """The real program in a process of its own: for pipes, devices and terminals."""
    return subprocess.run([sys.executable, "-m", "consentgen", *map(str, args)], cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, **kwargs)  # fmt: skip


def _manifest(tmp_path: Path, documents: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"documents": documents}))
    return path


# --- recheck: a document that could not be checked is a failure ---------------------------------

UNCHECKABLE = [
    {"id": "u1", "file": "u1_ZZ_individual.md", "state": "ZZ", "setting": "individual",
     "as_of": AS_OF, "sections": {"key_facts": "0" * 64}},  # a state that no longer exists
    {"id": "u2", "file": "u2_CA_individual.md", "state": "CA", "setting": "individual",
     "as_of": AS_OF},  # no section checksums: made by an older consentgen
    {"id": "u3", "file": "u3_CA_individual.md", "state": "CA", "setting": "individual",
     "as_of": "someday", "sections": {}},
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_recheck_exits_1_and_lists_documents_it_could_not_check(cli, tmp_path, fmt):
    result = cli("recheck", _manifest(tmp_path, UNCHECKABLE), "--as-of", AS_OF, "--format", fmt)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if fmt == "json":
        report = json.loads(result.stdout)
        assert report["not_checked"] == 3
        assert [d["status"] for d in report["documents"]] == ["error", "unknown", "error"]
    elif fmt == "csv":
        rows = result.stdout.splitlines()[1:]
        assert [row.split(",")[0] for row in rows] == ["u1", "u2", "u3"]
        assert [row.split(",")[5] for row in rows] == ["error", "unknown", "error"]
    else:
        assert "0 of 3 document(s) need re-consent" in result.stdout
        assert "3 could not be checked" in result.stdout
        assert [line.split("\t")[0] for line in result.stdout.splitlines()[:-1]
                if not line.startswith("\t")] == ["u1", "u2", "u3"]  # fmt: skip


@pytest.mark.parametrize(
    "manifest",
    [
        '{"documents": {"a": 1}}',
        '{"documents": [1, "two"]}',
        '{"documents": null}',
        '{"documents": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["documents-a-mapping", "entries-not-objects", "documents-null", "deep-nesting"],
)
def test_recheck_of_a_malformed_manifest_is_one_line(cli, tmp_path, manifest):
    path = tmp_path / "manifest.json"
    path.write_text(manifest)
    assert "is not a consentgen manifest" in _one_clean_line(cli("recheck", path))


def test_recheck_entries_of_the_wrong_shape_are_documents_not_checked(cli, tmp_path):
    entries = [{"id": ["x"], "state": 5, "setting": None, "as_of": 7, "sections": "x",
                "options": "y"}, {"id": "ok", "state": "CA", "setting": "individual",
                                  "as_of": AS_OF, "sections": {}, "options": [1]}]  # fmt: skip
    result = cli("recheck", _manifest(tmp_path, entries), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert [d["status"] for d in report["documents"]] == ["error", "error"]
    assert report["not_checked"] == 2


# --- CSV outputs are never formulas -------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_recheck_csv_cells_are_never_formulas(cli, tmp_path):
    entry = {"id": FORMULAS[0], "file": FORMULAS[3], "state": FORMULAS[1], "setting": FORMULAS[2],
             "as_of": AS_OF, "sections": {}}  # fmt: skip
    result = cli("recheck", _manifest(tmp_path, [entry]), "--as-of", AS_OF, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[1][:4] == ["'" + FORMULAS[0], "'" + FORMULAS[3], "'" + FORMULAS[1],
                           "'" + FORMULAS[2]]  # fmt: skip
    for row in rows:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_coverage_csv_cells_are_never_formulas(cli, tmp_path):
    (tmp_path / "jurisdictions").mkdir()
    (tmp_path / "jurisdictions" / "ZZ.yaml").write_text(
        'code: ZZ\nname: \'=HYPERLINK("http://evil.example","x")\'\nlast_reviewed: 2026-11-01\n'
        "rules:\n  child_abuse_reporting:\n    status: mandatory\n    summary: Report abuse.\n"
        "    citations: [{cite: 'Zz. Stat. 1', source_url: 'https://law.example.org/1',"
        " read: primary}]\n"
        "    verified: true\n"
    )
    result = cli("coverage", "--format", "csv", "--data-dir", tmp_path, "--as-of", AS_OF)
    rows = [row for row in csv.reader(io.StringIO(result.stdout)) if row[0] == "ZZ"]
    assert rows and all(row[1] == '\'=HYPERLINK("http://evil.example","x")' for row in rows)
    counts = [row[6] for row in rows if row[3] == "licensing_boards"]
    assert counts == ["0"]  # numbers stay numbers


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\uff1d1+1", "'\uff1d1+1"), ("\t=1", "\\t=1"), ("\r=1", "\\r=1"), ("-", "-"), ("-5", "-5"),
     ("-2.5", "-2.5"), ("12", "12"), ("CA", "CA"), ("", "")],
)  # fmt: skip
def test_the_csv_cell_rule(cell, written):
    from consentgen.textsafe import csv_cell

    assert csv_cell(cell) == written


# --- lint --format github -----------------------------------------------------------------------


def test_lint_github_annotations_escape_file_names_and_messages(cli, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a,b:c%d.yaml").write_text('fees:\n  "k%:,\\r\\nx": 1\n')
    (folder / "new\nline.yaml").write_text("fees: {session: x}\n")
    result = cli("lint", "--format", "github", folder)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("::error file=") for line in lines)
    first = next(line for line in lines if "a%2Cb%3Ac%25d.yaml,line=2,col=3," in line)
    assert "::unknown key 'k%25:,%0D%0Ax'" in first
    assert any("new%0Aline.yaml,line=1," in line for line in lines)


# --- control characters from input never reach a terminal raw ------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("build", "--state", "CA", "--as-of", f"2026{ESC}"),
        ("build", "--state", "CA", "--practice", f"missing{ESC}.yaml"),
        ("lint", f"missing{ESC}.yaml"),
        ("recheck", f"missing{ESC}.json"),
        ("lint", "--select", ESC, PROFILE),
    ],
    ids=["as-of", "practice-path", "lint-path", "manifest-path", "lint-rule"],
)
def test_control_characters_in_arguments_are_shown_escaped(cli, args):
    message = _one_clean_line(cli(*args))
    assert "\\x1b]0;pwn\\x07" in message


@pytest.mark.parametrize(
    ("escaped", "expected"),
    [("\\e]0;pwn\\a", "a control character (U+001B)"),
     ("\\x85", "a control character (U+0085)"),
     ("\\r", "a line break other than a plain one (U+000D)"),
     ("\\uFFFE", "a character that is not text (U+FFFE)")],
)  # fmt: skip
def test_a_control_character_in_a_yaml_value_is_refused_at_its_line(
    cli, tmp_path, escaped, expected
):
    profile = tmp_path / "practice.yaml"
    profile.write_text(f'practice:\n  name: "Acme{escaped} Therapy"\n')
    message = _one_clean_line(cli("build", "--state", "CA", "--practice", profile))
    assert f"practice.yaml:2:9: practice.name contains {expected}; remove it" in message


def test_lint_text_output_shows_control_characters_escaped(cli, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / f"x{ESC}.yaml").write_text('fees:\n  "k\\e[31m": 1\n')
    result = cli("lint", folder)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert "x\\x1b]0;pwn\\x07.yaml:2:3: error: unknown key 'k\\x1b[31m'" in result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_recheck_report_shows_manifest_values_escaped(cli, tmp_path):
    entry = {"id": f"i{ESC}", "file": "f.md", "state": f"s{ESC}", "setting": "individual",
             "as_of": AS_OF, "sections": {}}  # fmt: skip
    manifest = _manifest(tmp_path, [entry])
    for fmt in ("table", "csv"):
        result = cli("recheck", manifest, "--as-of", AS_OF, "--format", fmt)
        assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
        assert "i\\x1b]0;pwn\\x07" in result.stdout


def test_messages_on_a_terminal_show_control_characters_escaped(tmp_path):
    main, terminal = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "consentgen", "build", "--state", "CA",
                               "--as-of", f"x{ESC}"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=terminal, timeout=60)  # fmt: skip
    finally:
        os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert done.returncode == 2
    assert b"\x1b]0;pwn" not in seen and b"\\x1b]0;pwn\\x07" in seen


# --- numbers: no infinity, no NaN, nothing absurdly large ---------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(".inf", "fees.session must be a finite number"),
     (".nan", "fees.session must be a finite number"),
     ("-.inf", "fees.session must be a finite number"),
     ("9" * 400, "fees.session must be between 0 and 1000000000"),
     ("0x" + "f" * 400, "fees.session must be between 0 and 1000000000"),
     ("9" * 5000, "the number is too long")],
    ids=["inf", "nan", "minus-inf", "400-digits", "huge-hex", "5000-digits"],
)  # fmt: skip
def test_fees_refuse_infinity_nan_and_huge_numbers(cli, tmp_path, value, expected):
    profile = tmp_path / "practice.yaml"
    profile.write_text(f"fees:\n  session: {value}\n")
    message = _one_clean_line(cli("build", "--state", "CA", "--practice", profile))
    assert f"practice.yaml:2:12: {expected}" in message


def test_whole_numbers_refuse_huge_values(cli, tmp_path):
    profile = tmp_path / "practice.yaml"
    profile.write_text(f"fees:\n  session_minutes: {'9' * 30}\n")
    message = _one_clean_line(cli("build", "--state", "CA", "--practice", profile))
    assert "practice.yaml:2:20: fees.session_minutes must be between 1 and 1000000000" in message


# --- init refuses a path with a control character -----------------------------------------------


@pytest.mark.parametrize("name", ["a\nb.yaml", f"x{ESC}.yaml", "tab\there.yaml"])
def test_init_refuses_a_path_with_a_control_character(cli, tmp_path, name):
    message = _one_clean_line(cli("init", tmp_path / name, "--no-prompt"))
    assert "control character" in message
    assert list(tmp_path.iterdir()) == []


# --- paths the system cannot take ----------------------------------------------------------------


@pytest.mark.parametrize("long", [LONG_NAME, LONG_PATH], ids=["long-name", "long-path"])
@pytest.mark.parametrize(
    "args",
    [
        ("build", "--state", "CA", "--practice", "{long}"),
        ("build", "--state", "CA", "-o", "{long}.md"),
        ("build", "--state", "CA", "--data-dir", "{long}"),
        ("init", "{long}.yaml", "--no-prompt"),
        ("lint", "{long}"),
        ("lint", "--data-dir", "{long}", PROFILE),
        ("recheck", "{long}"),
        ("recheck", "{manifest}", "--practice", "{long}"),
        ("diff", "--state", "CA", "--from", "2020-01-01", "--practice", "{long}"),
        ("coverage", "--data-dir", "{long}"),
        ("show", "CA", "--data-dir", "{long}"),
        ("batch", "{rows}", "--out-dir", "{long}"),
    ],
    ids=lambda args: "-".join(a for a in map(str, args) if a.isalpha() or a.startswith("--"))[:40],
)
def test_a_path_too_long_for_the_system_is_one_line(cli, tmp_path, args, long):
    manifest = _manifest(tmp_path, [])
    rows = tmp_path / "rows.csv"
    rows.write_text("id,state,setting,clients\nr1,CA,individual,A\n")
    filled = [str(a).format(long=long, manifest=manifest, rows=rows) for a in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    message = _one_clean_line(cli(*filled))
    assert "too long" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# --- pipes and devices given as files ------------------------------------------------------------


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize(
    "args",
    [
        ("build", "--state", "CA", "--as-of", AS_OF, "--practice", "{file}"),
        ("recheck", "{file}"),
        ("lint", "{file}"),
    ],
    ids=["build-practice", "recheck", "lint"],
)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_pipe_or_device_given_as_a_file_is_refused_at_once(tmp_path, args, kind):
    if kind == "fifo":
        file = tmp_path / "practice.yaml"
        os.mkfifo(file)  # no writer: reading it would wait forever
    else:
        file = Path("/dev/zero")  # endless: reading it would fill the memory
    done = _run(*[a.format(file=file) for a in args], cwd=tmp_path, timeout=20,
                preexec_fn=_limit_memory, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert "Traceback" not in done.stderr
    if args[0] == "lint":  # a finding about the file (CG004), like a binary file: exit code 1
        assert done.returncode == 1, done.stderr
        assert done.stdout.count("\n") == 1 and "is not a regular file" in done.stdout
    else:
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "is not a regular file" in done.stderr


# --- lint from a folder that no longer exists ----------------------------------------------------


def test_lint_in_a_deleted_folder_is_one_line(cli, tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    message = _one_clean_line(cli("lint", PROFILE))
    assert "current folder" in message


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("select: 5", "select must be rule ids or names"),
     ("max-age: lots", "max-age must be a whole number of days"),
     ("max-age: .inf", "max-age must be a whole number of days"),
     ("strict: 'no'", "strict must be true or false")],
)  # fmt: skip
def test_lint_settings_of_the_wrong_type_are_one_line(cli, tmp_path, monkeypatch, setting,
                                                      expected):  # fmt: skip
    (tmp_path / ".consentgen.yaml").write_text(f"lint:\n  {setting}\n")
    monkeypatch.chdir(tmp_path)
    assert f".consentgen.yaml: {expected}" in _one_clean_line(cli("lint", PROFILE))


@pytest.mark.parametrize(
    "text",
    ["fees: " + "[" * 990 + "]" * 990 + "\n",
     "fees:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(900))],
    ids=["flow", "block"],
)  # fmt: skip
def test_yaml_nested_too_deep_is_one_line(cli, tmp_path, text):
    profile = tmp_path / "practice.yaml"
    profile.write_text(text)
    message = _one_clean_line(cli("build", "--state", "CA", "--practice", profile))
    assert "nested more than 50 levels deep" in message
    result = cli("lint", profile)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "nested more than 50 levels deep [CG001 yaml-syntax]" in result.stdout


# --- not_text: what no document may hold -------------------------------------------------------


def test_every_character_not_text_refuses_is_one_unicode_does_not_print() -> None:
    """not_text returns at once for text that str.isprintable() passes (almost all of it); that
    is right only if each character it refuses is one Unicode does not print. Checked for every
    code point, so a new Unicode version or a wider pattern cannot make it wrong unseen."""
    from consentgen import textsafe

    refused = [chr(c) for c in range(0x110000) if textsafe._NOT_TEXT.fullmatch(chr(c))]
    assert len(refused) > 2000  # controls, separators, surrogates, noncharacters
    assert not [c for c in refused if c.isprintable()]
    assert textsafe.not_text("a\tb") is None and textsafe.not_text("a\u00a0b") is None
    assert textsafe.not_text("a\nb") == "a line break (U+000A)"
    assert textsafe.not_text("a\nb", line_feeds=True) is None
    assert textsafe.not_text("a\x1bb") == "a control character (U+001B)"
    assert textsafe.not_text("\ufffe") == "a character that is not text (U+FFFE)"
