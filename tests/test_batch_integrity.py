"""Batch integrity: no row lost or swallowed, no name in a message, resume that notices changed
rows, one writer per folder, a journal that survives a crash, safe text in every format, and
memos and caches keyed on content (issue 10, findings 4-9, 11, 12 and the medium ones)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT
from consentgen import batch

HEADER = "id,state,setting,clients,payment,supervisee,telehealth,guardian,profession,as_of\n"
DATE = dt.date.fromisoformat(AS_OF)


def _csv(tmp_path: Path, body: str, name: str = "clients.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _documents(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if not p.name.startswith(".") and
            p.name != "manifest.json"}  # fmt: skip


def _manifest(out: Path) -> dict[str, dict]:
    data = json.loads((out / "manifest.json").read_text())
    return {entry["file"]: entry for entry in data["documents"]}


def _covers_every_document(out: Path) -> None:
    manifest = _manifest(out)
    assert set(manifest) == _documents(out)
    for name, entry in manifest.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]


def _one_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


# --- 4. A field that swallows line breaks -----------------------------------------------------


def test_an_unbalanced_quote_fails_its_row_and_loses_no_other(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text('id,state,setting,clients\nq1,CA,individual,"Ann ""Lee\n'
                      "q2,NY,individual,Bo Second\nq3,TX,couples,Cy Third;Di Fourth\n")  # fmt: skip
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert _errors(result) == [
        f"error: {source}:2: id q1: column 'clients' runs over a line break (an unbalanced "
        "quote?); a field may not span lines"
    ]
    assert _documents(out) == {"q2_NY_individual.md", "q3_TX_couples.md"}
    assert "**Client:** Bo Second" in (out / "q2_NY_individual.md").read_text()
    assert "1 row(s) failed" in result.stderr
    for name in ("Ann", "Second", "Third"):
        assert name not in result.stderr


# --- 5. No value of a field in a message ------------------------------------------------------


def test_misaligned_columns_never_echo_a_name(cli, tmp_path):
    body = ("m1,CA,individual,Ok Person,alexandra,,,,,\n"  # a name in the payment column
            "m2,Morgan Hiddenname,individual,CA,,,,,,\n"  # state and clients swapped
            "m3,CA,Quinn Hidden,individual,,,,,,\n"  # setting and clients swapped
            "m4,CA,individual,A,,Reese Hidden,,,,\n"
            "m5,CA,individual,A,,,,,Sky Hidden,\n"
            "m6,CA,individual,A,,,,,,Tate Hidden\n")  # fmt: skip
    source = _csv(tmp_path, body)
    result = cli("batch", source, "--out-dir", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == 1
    errors = _errors(result)
    assert errors == [
        f"error: {source}:2: id m1: column 'payment' is not one of insurance, self-pay",
        f"error: {source}:3: id m2: column 'state' is not a state we have a file for (use a "
        "two-letter code such as CA, or a state's name)",
        f"error: {source}:4: id m3: column 'setting' is not one of individual, couples, family, "
        "group, minor",
        f"error: {source}:5: id m4: column 'supervisee' must be yes or no (or true/false, y/n, "
        "1/0)",
        f"error: {source}:6: id m5: column 'profession' is not one of psychologist, counselor, "
        "social-worker, mft",
        f"error: {source}:7: id m6: column 'as_of' is not a date (YYYY-MM-DD)",
    ]
    for secret in ("alexandra", "Morgan", "Hidden"):
        assert secret not in result.stderr + result.stdout


# --- 6. Resume notices a changed row ----------------------------------------------------------


def test_resume_reports_a_row_whose_inputs_changed(cli, tmp_path):
    out = tmp_path / "out"
    first = _csv(tmp_path, "r1,CA,individual,Alex First,,,,,,\nr2,NY,individual,Sam Same,,,,,,\n")
    assert cli("batch", first, "--out-dir", out, "--as-of", AS_OF).exit_code == 0
    before = (out / "r1_CA_individual.md").read_bytes()
    manifest = (out / "manifest.json").read_text()
    assert "Alex" not in manifest and "Sam" not in manifest
    assert all(len(e["inputs_hmac"]) == 64 for e in _manifest(out).values())
    body = "r1,CA,individual,Blair Other,,,,,,\nr2,NY,individual,Sam Same,,,,,,\n"
    changed = _csv(tmp_path, body, name="changed.csv")
    resumed = cli("batch", changed, "--out-dir", out, "--as-of", AS_OF, "--resume")
    assert resumed.exit_code == 1
    assert _errors(resumed) == [
        f"error: {changed}:2: id r1: r1_CA_individual.md was built from other inputs (names, "
        "options, date or practice profile); use --force to rebuild it"
    ]
    assert "0 document(s) written, 1 skipped" in resumed.stderr
    assert (out / "r1_CA_individual.md").read_bytes() == before
    options = _csv(tmp_path, "r1,CA,individual,Alex First,self-pay,,,,,\n", name="options.csv")
    assert cli("batch", options, "--out-dir", out, "--as-of", AS_OF, "--resume").exit_code == 1
    forced = cli("batch", changed, "--out-dir", out, "--as-of", AS_OF, "--force")
    assert forced.exit_code == 0
    assert "Blair Other" in (out / "r1_CA_individual.md").read_text()
    again = cli("batch", changed, "--out-dir", out, "--as-of", AS_OF, "--resume")
    assert again.exit_code == 0 and "0 document(s) written, 2 skipped" in again.stderr
    _covers_every_document(out)


# --- 7. One writer per folder, never an overwrite without --force -----------------------------


def test_a_second_batch_into_a_locked_folder_is_refused(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    source = _csv(tmp_path, "l1,CA,individual,Alex,,,,,,\n")
    with open(out / ".consentgen.lock", "a") as held:  # another batch is running
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert _one_line(result) == (f"error: another consentgen batch is writing to {out}; wait for "
                                 "it or choose another folder")  # fmt: skip
    assert _documents(out) == set() and not (out / "manifest.json").exists()
    assert cli("batch", source, "--out-dir", out, "--as-of", AS_OF).exit_code == 0


def _rows(tmp_path: Path, count: int, prefix: str, name: str) -> Path:
    return _csv(tmp_path, "".join(f"{prefix}{i},CA,individual,Client {i},,,,,,\n"
                                  for i in range(count)), name=name)  # fmt: skip


def _start(source: Path, out: Path, *extra: str) -> subprocess.Popen:
    """A batch in its own process, its output in files (a pipe would stay open as long as any
    worker lived, and a test reading it would hang where the workers outlive their parent)."""
    log = source.with_suffix(".log")
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "consentgen", "batch", str(source), "--out-dir", str(out),
             "--as-of", AS_OF, "-j", "2", *extra],
            stdout=output, stderr=output, env={**os.environ},
        )  # fmt: skip
    process.log = log  # type: ignore[attr-defined]
    return process


def _finish(process: subprocess.Popen, timeout: float) -> str:
    try:
        process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.log.read_text()  # type: ignore[attr-defined]


def _wait_for_documents(out: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_dir() and len([p for p in os.listdir(out) if p.endswith(".md")]) >= count:
            return
        time.sleep(0.005)
    raise AssertionError("the batch did not get going")


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_two_batches_into_one_folder_at_once(tmp_path):
    out = tmp_path / "out"
    first = _start(_rows(tmp_path, 1500, "a", "one.csv"), out)
    _wait_for_documents(out, 5, first)
    second = _start(_rows(tmp_path, 50, "a", "two.csv"), out, "--force")  # the same ids
    second_err = _finish(second, timeout=60)
    first_err = _finish(first, timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    assert second_err == (f"error: another consentgen batch is writing to {out}; wait for it or "
                          "choose another folder\n")  # fmt: skip
    assert len(_documents(out)) == 1500
    _covers_every_document(out)


def test_a_file_that_appears_meanwhile_is_never_replaced(cli, tmp_path, monkeypatch):
    from consentgen import api, engine

    out = tmp_path / "out"
    target = tmp_path / "c.md"

    def racing(real):
        def render(*args, **kwargs):  # another process writes the same file meanwhile
            (out / "x1_CA_individual.md").write_text("the other one")
            target.write_text("the other one")
            return real(*args, **kwargs)

        return render

    out.mkdir()
    monkeypatch.setattr(engine, "render_with", racing(engine.render_with))  # what batches call
    monkeypatch.setattr(api, "render", racing(engine.render))  # what `build` calls (the facade)
    source = _csv(tmp_path, "x1,CA,individual,Alex,,,,,,\n")
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "-j", "1")
    assert result.exit_code == 1
    assert _errors(result) == [f"error: {source}:2: id x1: x1_CA_individual.md already exists; "
                               "use --force or --resume"]  # fmt: skip
    assert (out / "x1_CA_individual.md").read_text() == "the other one"
    assert _manifest(out) == {}
    target.unlink()
    built = cli("build", "--state", "CA", "--as-of", AS_OF, "-o", target)
    assert _one_line(built) == f"error: {target} already exists; use --force to replace it"
    assert target.read_text() == "the other one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.md", "clients.csv", "out"]


def test_a_link_that_appears_meanwhile_is_never_written_through(cli, tmp_path, monkeypatch):
    from consentgen import engine

    out, outside = tmp_path / "out", tmp_path / "outside.md"
    outside.write_text("not yours")
    real = engine.render_with

    def racing(*args, **kwargs):  # a link in the document's place, once the row was planned
        link = out / "x1_CA_individual.md"
        if not link.is_symlink():
            link.symlink_to(outside)
        return real(*args, **kwargs)

    out.mkdir()
    monkeypatch.setattr(engine, "render_with", racing)
    source = _csv(tmp_path, "x1,CA,individual,Alex,,,,,,\n")
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "-j", "1", "--force")
    assert result.exit_code == 1
    assert _errors(result) == [f"error: {source}:2: id x1: {out / 'x1_CA_individual.md'} is a "
                               "symbolic link; refusing to write through it"]  # fmt: skip
    assert outside.read_text() == "not yours"
    assert _manifest(out) == {}


# --- 8. A journal, resume after kill -9, workers that die with their parent --------------------


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_resume_after_kill_9_finishes_the_job(tmp_path):
    source = _rows(tmp_path, 1500, "k", "rows.csv")
    out = tmp_path / "out"
    process = _start(source, out)
    _wait_for_documents(out, 100, process)
    workers = _children(process.pid)
    assert workers  # it runs in parallel
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # not to leave them running when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived their parent"
    on_disk = _documents(out)
    assert 100 <= len(on_disk) < 1500
    resumed = subprocess.run(
        [sys.executable, "-m", "consentgen", "batch", str(source), "--out-dir", str(out),
         "--as-of", AS_OF, "--resume"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped (already there), 0 row(s) failed" in resumed.stderr
    skipped = int(resumed.stderr.split(" skipped")[0].rsplit(", ", 1)[1])
    assert skipped >= len(on_disk) - 2  # at most the files being renamed at the kill are redone
    assert len(_documents(out)) == 1500
    _covers_every_document(out)
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [".consentgen.key", ".consentgen.lock"]  # no temporary file, no journal


def test_a_failed_manifest_write_leaves_a_journal_that_the_next_run_folds(cli, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    from consentgen import manifest
    from consentgen.errors import UserError

    out = tmp_path / "out"
    source = _rows(tmp_path, 3, "f", "rows.csv")

    def full_disk(*args, **kwargs):
        raise UserError(f"could not write {out / 'manifest.json'}: No space left on "
                        "device; nothing was changed there")  # fmt: skip

    monkeypatch.setattr(manifest.Manifest, "write", full_disk)
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert len(_documents(out)) == 3 and not (out / "manifest.json").exists()
    monkeypatch.undo()
    resumed = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "--resume")
    assert resumed.exit_code == 0 and "0 document(s) written, 3 skipped" in resumed.stderr
    _covers_every_document(out)
    assert not (out / ".manifest.journal").exists()


def test_a_chunk_that_cannot_be_made_durable_gives_no_document_its_name(cli, tmp_path,
                                                                         monkeypatch):  # fmt: skip
    from consentgen import batching

    out = tmp_path / "out"
    source = _rows(tmp_path, 3, "d", "rows.csv")

    def failing_disk(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(batching, "make_durable", failing_disk)
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "-j", "1")
    assert result.exit_code == 1
    assert _errors(result) == [f"error: {source}:{line}: id d{line - 2}: its document could not "
                               "be written (Input/output error); run again with --resume"
                               for line in (2, 3, 4)]  # fmt: skip
    assert _documents(out) == set() and _manifest(out) == {}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    resumed = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "--resume")
    assert resumed.exit_code == 0 and "3 document(s) written, 0 skipped" in resumed.stderr
    _covers_every_document(out)


def test_a_chunk_stopped_midway_leaves_no_temporary_file_and_names_nothing(cli, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    from consentgen import engine

    out = tmp_path / "out"
    source = _rows(tmp_path, 20, "s", "rows.csv")  # chunks of 5 rows
    real, calls = engine.render_with, []

    def stopped(*args, **kwargs):  # Ctrl-C while the first chunk's third document is rendered
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "render_with", stopped)
    with pytest.raises(KeyboardInterrupt):
        batch(source, out_dir=out, as_of=DATE, jobs=1)
    assert _documents(out) == set()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".consentgen-")) == []


def test_a_dead_writers_temporary_file_is_removed(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = out / f".consentgen-{dead}-abcdef123456.tmp"
    stale.write_text("**Client:** Someone Private")
    source = _csv(tmp_path, "t1,CA,individual,Alex,,,,,,\n")
    assert cli("batch", source, "--out-dir", out, "--as-of", AS_OF).exit_code == 0
    assert not stale.exists()


# --- 9. Text a format cannot hold -------------------------------------------------------------


def test_a_control_character_in_a_name_fails_that_row_only(cli, tmp_path):
    body = (
        "c1,CA,individual,Al\x07ex,,,,,,\nc2,CA,individual,Sam,,,,,,\n"
        "c3,CA,minor,Kid,,,,Pat\x1bLee,,\n"
    )
    source = _csv(tmp_path, body)
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF, "--format",
                 "md,html,txt,json,docx")  # fmt: skip
    assert result.exit_code == 1
    assert _errors(result) == [
        f"error: {source}:2: id c1: column 'clients': name 1 holds a control character (U+0007); "
        "remove it",
        f"error: {source}:4: id c3: column 'guardian': name 1 holds a control character "
        "(U+001B); remove it",
    ]
    assert "\x1b" not in result.stderr
    assert _documents(out) == {f"c2_CA_individual.{f}" for f in ("md", "html", "txt", "json",
                                                                 "docx")}  # fmt: skip
    built = cli("build", "--state", "CA", "--as-of", AS_OF, "--client", "Al\x07ex", "-o",
                tmp_path / "c.docx")  # fmt: skip
    assert _one_line(built) == ("error: --client 1 holds a control character (U+0007); "
                                "remove it")  # fmt: skip
    assert not (tmp_path / "c.docx").exists()


def test_jsonl_names_that_are_not_text_fail_their_row(tmp_path):
    source = tmp_path / "rows.jsonl"
    row = '{"id": "s%d", "state": "CA", "setting": "individual", "clients": "%s"}\n'
    source.write_text(row % (1, "A\\ud800") + row % (2, "B\\u2028C") + row % (3, "Dee"))
    result = batch(source, tmp_path / "out", formats=("md", "docx"), as_of=DATE)
    assert [str(f) for f in result.failed] == [
        "1: id s1: column 'clients': name 1 holds a character that is not text (U+D800); remove it",
        "2: id s2: column 'clients': name 1 holds a line break (U+2028); remove it",
    ]
    assert _documents(tmp_path / "out") == {"s3_CA_individual.md", "s3_CA_individual.docx"}


def test_the_api_makes_a_name_safe_in_every_format(tmp_path):
    from consentgen.api import Request, build_document, render

    request = Request(state="CA", clients=("Al\x07ex\x1b[31m",), as_of=DATE)
    assert request.clients == ("Al\ufffdex\ufffd[31m",)
    document = build_document(request, practice=PROFILE)
    for fmt in ("md", "html", "txt", "json", "docx"):
        data = render(document, fmt)
        if fmt == "docx":
            data = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
        data = data.encode() if isinstance(data, str) else data
        assert b"\x07" not in data and b"\x1b" not in data
        assert "Al\ufffdex\ufffd".encode() in data


def test_docx_and_txt_make_other_text_safe(tmp_path):
    import docx

    from consentgen.api import Request, build_document, load_profile, render

    profile = load_profile(PROFILE)
    profile = dataclasses.replace(profile, practice=dataclasses.replace(
        profile.practice, name="Harbor\x01Light\x00"))  # fmt: skip
    document = build_document(Request(state="CA", as_of=DATE), practice=profile)
    data = render(document, "docx")
    path = tmp_path / "c.docx"
    path.write_bytes(data)
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Harbor\ufffdLight\ufffd" in text
    assert "Harbor\ufffdLight\ufffd" in render(document, "txt")


# --- 11. Memos keyed on content, not on object identity --------------------------------------


def test_each_profile_gets_its_own_sections_in_one_process(tmp_path):
    from consentgen.api import load_profile

    base = load_profile(PROFILE)
    rows = [{"id": "p", "state": "CA", "setting": "individual", "clients": "A"}]
    for i in range(40):
        name = f"Clinician Number{i:02d}"
        profile = dataclasses.replace(base, clinician=dataclasses.replace(base.clinician,
                                                                          name=name))  # fmt: skip
        result = batch(rows, tmp_path / f"out{i}", practice=profile, as_of=DATE, jobs=1)
        assert result.failed == []
        text = (tmp_path / f"out{i}" / "p_CA_individual.md").read_text()
        assert f"I am {name}" in text, i
        del profile, result


def test_profile_hash_is_a_stable_content_hash():
    from consentgen.api import load_profile
    from consentgen.profile import profile_hash

    one, two = load_profile(PROFILE), load_profile(PROFILE)
    assert one is not two
    assert profile_hash(one) == profile_hash(two)
    assert profile_hash(one) == hashlib.sha256(repr(one).encode()).hexdigest()  # as before
    from markupsafe import Markup  # a str subclass with its own repr: equal content, one hash

    marked = dataclasses.replace(one, practice=dataclasses.replace(
        one.practice, name=Markup(one.practice.name)))  # fmt: skip
    assert marked == one and profile_hash(marked) == profile_hash(one)
    other = dataclasses.replace(one, fees=dataclasses.replace(one.fees, session=181.0))
    assert profile_hash(other) != profile_hash(one)
    code = ("from consentgen.api import load_profile; from consentgen.profile import "
            f"profile_hash; print(profile_hash(load_profile({str(PROFILE)!r})))")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == profile_hash(one)


# --- 12. Loaded law notices its file changed --------------------------------------------------


def test_an_edited_jurisdiction_file_is_read_again(tmp_path):
    data = tmp_path / "data"
    (data / "jurisdictions").mkdir(parents=True)
    law = data / "jurisdictions" / "CA.yaml"
    law.write_text((ROOT / "jurisdictions" / "CA.yaml").read_text())
    rows = [{"id": "e", "state": "CA", "setting": "individual", "clients": "A"}]
    first = batch(rows, tmp_path / "one", data_dirs=[data], as_of=DATE)
    assert first.failed == []
    marker = "Edited-marker sentence for this test."
    sentence = "client or reported by a family member of the client"
    assert sentence in law.read_text()
    law.write_text(law.read_text().replace(sentence, marker))
    second = batch(rows, tmp_path / "two", data_dirs=[data], as_of=DATE)
    assert second.failed == [], second.failed
    assert marker in (tmp_path / "two" / "e_CA_individual.md").read_text()
    assert second.written[0]["data_version"] != first.written[0]["data_version"]


# --- Medium: malformed manifests, hostile JSONL, too many jobs ------------------------------


@pytest.mark.parametrize(
    "content",
    ["[]", '{"documents": {}}', '{"documents": [1]}', '{"documents": [{"file": "a.md"}]}',
     '{"documents": [{"file": 3, "id": "a", "sha256": "x"}]}',
     '{"documents": [{"file": "../a.md", "id": "a", "sha256": "' + "0" * 64 + '"}]}',
     '{"documents": [{"file": "a.md", "id": ["a"], "sha256": "' + "0" * 64 + '"}]}',
     "[" * 100_000 + "]" * 100_000, "{"],
)  # fmt: skip
@pytest.mark.parametrize("resume", [False, True])
def test_a_malformed_manifest_is_one_clean_line(cli, tmp_path, content, resume):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(content)
    source = _csv(tmp_path, "a,CA,individual,Alex,,,,,,\n")
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF,
                 *(["--resume"] if resume else []))  # fmt: skip
    line = _one_line(result)
    assert line == (f"error: {out / 'manifest.json'} is not a consentgen manifest; move it away "
                    "or fix it")  # fmt: skip
    assert (out / "manifest.json").read_text() == content
    assert _documents(out) == set()


def test_hostile_jsonl_rows_are_reported_and_the_rest_built(cli, tmp_path):
    source = tmp_path / "rows.jsonl"
    source.write_text(
        '{"id": "h1", "state": "CA", "setting": "individual", "clients": "A"}\n'
        + '{"id": "h2", "clients": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
        + '{"id": "h3", "state": "CA", "setting": "individual", "clients": "A", "x": '
        + "9" * 5000 + "}\n"
        + '{"id": "h4", "state": "CA", "setting": "individual", "clients": [["Deep"]]}\n'
        + '{"id": "h5", "state": "CA", "setting": "individual", "clients": "B"}\n'
    )  # fmt: skip
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert _errors(result) == [
        f"error: {source}:2: not valid JSON (nested too deeply)",
        f"error: {source}:3: not valid JSON (a number with too many digits)",
        f"error: {source}:4: id h4: column 'clients' must be text or a list of texts",
    ]
    assert _documents(out) == {"h1_CA_individual.md", "h5_CA_individual.md"}
    assert "Deep" not in result.stderr


def test_too_many_jobs_are_capped_and_said_once(cli, tmp_path):
    source = _rows(tmp_path, 10, "j", "rows.csv")
    result = cli("batch", source, "--out-dir", tmp_path / "out", "--as-of", AS_OF, "-j", "500")
    assert result.exit_code == 0
    cap = min(500, (os.cpu_count() or 1) * 2, 32)
    warnings = [line for line in result.stderr.splitlines() if "--jobs" in line]
    assert warnings == [f"warning: --jobs 500 is more than this machine can use; using {cap}"]
    assert len(_documents(tmp_path / "out")) == 10


def test_an_unbalanced_quote_over_the_field_limit_loses_no_row(tmp_path):
    from consentgen.batching import read_rows

    rows = "".join(f"r{i},CA,individual,Client Number {i} with a long name\n" for i in range(3000))
    source = tmp_path / "clients.csv"
    source.write_text('id,state,setting,clients\nq,CA,individual,"Ann ""Lee\n' + rows)
    good, failures, _ = read_rows(source)
    assert len(good) == 3000
    assert [str(f) for f in failures] == [
        "2: not valid CSV (field larger than field limit (131072))"
    ]


def test_a_device_as_the_input_is_one_clean_line(cli, tmp_path):
    result = cli("batch", "/dev/null", "--out-dir", tmp_path / "out")  # /dev/zero: the same
    assert _one_line(result) == (
        "error: /dev/null: not a file (a device or a folder); give a CSV or JSON Lines file"
    )
