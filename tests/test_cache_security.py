"""The per-user cache: never runs code, never trusts a folder or an entry someone else could write,
and never serves a corrupted, foreign or stale entry."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import pickle
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AS_OF, PROFILE, ROOT
from consentgen import cache
from consentgen.api import Request, build_document, render

BUILD = ("build", "--state", "CA", "--setting", "couples", "--as-of", AS_OF, "--practice", PROFILE)
DAY = dt.date.fromisoformat(AS_OF)
MARKER = "PLANTED-BY-SOMEONE-ELSE"
FOREIGN_UID = 65534  # nobody


def _build(cli, out: Path):
    from consentgen import jurisdictions

    jurisdictions._validated.clear()  # as a new process would start
    return cli(*BUILD, "-o", out, "--force")


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json"))


def _rewrite(folder: Path, kind: str, change) -> int:
    """Rewrite every entry of a kind as a valid entry holding changed data."""
    count = 0
    for path in (folder / kind).glob("*.json"):
        entry = json.loads(path.read_text())
        entry["value"] = change(entry["value"])
        payload = json.dumps(entry["value"], ensure_ascii=False, sort_keys=True,
                             separators=(",", ":"))  # fmt: skip
        entry["sha256"] = hashlib.sha256(payload.encode()).hexdigest()
        path.write_text(json.dumps(entry))
        count += 1
    return count


def _plant_html(folder: Path) -> None:
    assert _rewrite(folder, "html", lambda html: f"<p>{MARKER}</p>\n")


def _plant_law(folder: Path) -> None:
    def change(data):
        if data.get("code") == "CA":
            data["name"] = MARKER
        return data

    assert _rewrite(folder, "jurisdictions", change)


@pytest.fixture(autouse=True)
def _as_new_processes(monkeypatch):
    """Each build here stands for a new process: nothing validated earlier in this one."""
    from consentgen import jurisdictions

    monkeypatch.setattr(jurisdictions, "_validated", {})
    yield
    jurisdictions._validated.clear()


@pytest.fixture
def cache_folder(tmp_path, monkeypatch, new_process) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(folder))
    return folder


def test_folders_are_private_and_entries_are_plain_json(cli, tmp_path, cache_folder):
    assert _build(cli, tmp_path / "c.html").exit_code == 0
    for path in [cache_folder, *cache_folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    entries = _entries(cache_folder)
    assert {p.parent.name for p in entries} == {"examples", "html", "jurisdictions", "profiles"}
    assert {p for p in cache_folder.rglob("*") if p.is_file()} == set(entries)
    for path in entries:
        entry = json.loads(path.read_text())
        assert entry["key"] == path.stem and entry["kind"] == path.parent.name


def test_a_cache_folder_of_ours_that_others_can_read_is_made_private(cli, tmp_path, cache_folder):
    cache_folder.mkdir(mode=0o755)
    cache_folder.chmod(0o755)
    result = _build(cli, tmp_path / "c.md")
    assert result.exit_code == 0 and "cache folder" not in result.stderr
    assert stat.S_IMODE(cache_folder.stat().st_mode) == 0o700


def test_planted_entries_are_what_the_tests_below_would_catch(cli, tmp_path, cache_folder):
    """Control: in the user's own private folder, a (validated) entry is used as it is."""
    assert _build(cli, tmp_path / "c.html").exit_code == 0
    _plant_html(cache_folder)
    _plant_law(cache_folder)
    assert _build(cli, tmp_path / "c.html").exit_code == 0
    assert MARKER in (tmp_path / "c.html").read_text()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_folder_others_can_write_is_not_used(cli, tmp_path, cache_folder, mode):
    assert _build(cli, tmp_path / "c.html").exit_code == 0
    reference = (tmp_path / "c.html").read_text()
    _plant_html(cache_folder)
    _plant_law(cache_folder)
    cache_folder.chmod(mode)
    before = {p: p.read_bytes() for p in _entries(cache_folder)}
    result = _build(cli, tmp_path / "c.html")
    assert result.exit_code == 0
    assert (tmp_path / "c.html").read_text() == reference
    warnings = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(warnings) == 1, result.stderr
    assert f"not using the cache folder {cache_folder}: other users can write in it" in warnings[0]
    assert {p: p.read_bytes() for p in _entries(cache_folder)} == before  # nothing written
    assert stat.S_IMODE(cache_folder.stat().st_mode) == mode  # and nothing "fixed" silently


def _give_away(folder: Path, monkeypatch) -> None:
    """Make `folder` belong to another user: really, when the tests run as root; otherwise by
    making consentgen believe it is someone else."""
    if os.geteuid() == 0:
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, FOREIGN_UID, FOREIGN_UID)
    else:
        real = os.geteuid()
        monkeypatch.setattr(cache.os, "geteuid", lambda: real + 1)


def test_a_folder_that_belongs_to_someone_else_is_not_used(cli, tmp_path, cache_folder,
                                                           monkeypatch):  # fmt: skip
    assert _build(cli, tmp_path / "c.html").exit_code == 0
    reference = (tmp_path / "c.html").read_text()
    _plant_html(cache_folder)
    _plant_law(cache_folder)
    _give_away(cache_folder, monkeypatch)
    result = _build(cli, tmp_path / "c.html")
    assert result.exit_code == 0
    assert (tmp_path / "c.html").read_text() == reference
    assert "it belongs to another user" in result.stderr
    assert result.stderr.count("cache folder") == 1


def test_a_folder_above_it_that_others_can_write_is_not_trusted(cli, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # no sticky bit: anyone could rename our folder and put theirs there
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(shared / "mine"))
    result = _build(cli, tmp_path / "c.md")
    assert result.exit_code == 0
    assert f"{shared} can be changed by other users" in result.stderr
    assert not (shared / "mine").exists()


def test_a_sticky_shared_folder_above_it_is_fine(cli, tmp_path, monkeypatch, new_process):
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(shared / "mine"))
    result = _build(cli, tmp_path / "c.md")
    assert result.exit_code == 0 and "cache folder" not in result.stderr
    assert _entries(shared / "mine")


def test_a_link_in_place_of_the_folder_is_not_used(cli, tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path / "link"))
    result = _build(cli, tmp_path / "c.md")
    assert result.exit_code == 0
    assert "it is not a plain folder" in result.stderr
    assert not list(real.iterdir())


def test_the_api_warns_once_and_builds(tmp_path, monkeypatch):
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("CONSENTGEN_CACHE_DIR", str(folder))
    with pytest.warns(cache.CacheWarning, match="other users can write in it") as caught:
        for _ in range(3):
            build_document(Request(state="CA", as_of=DAY), practice=PROFILE)
    assert len(caught) == 1
    assert not list(folder.iterdir())


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_where_the_old_cache_kept_one_runs_nothing(tmp_path, cache_folder):
    """Before, validated files were pickled under VERSION-MODELHASH-NAME-SHA256.pickle and
    loaded back: anyone who could write the folder ran code as the user."""
    marker = tmp_path / "ran"
    model = hashlib.sha256((ROOT / "src" / "consentgen" / "model.py").read_bytes()).hexdigest()
    from consentgen import __version__

    for kind, path in (("jurisdictions", ROOT / "jurisdictions" / "CA.yaml"),
                       ("jurisdictions", ROOT / "jurisdictions" / "US.yaml"),
                       ("profiles", PROFILE)):  # fmt: skip
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        name = f"{path.stem}-{digest}" if kind == "jurisdictions" else digest
        (cache_folder / kind).mkdir(parents=True, exist_ok=True, mode=0o700)
        with (cache_folder / kind / f"{__version__}-{model[:12]}-{name}.pickle").open("wb") as fh:
            pickle.dump(_Payload(marker), fh)
    cache_folder.chmod(0o700)
    doc = build_document(Request(state="CA", as_of=DAY), practice=PROFILE)
    assert render(doc, "md")
    assert not marker.exists()


def test_no_module_loads_code_or_pickles_from_disk():
    """What the tool reads back is plain data: no pickle, marshal or Jinja bytecode cache."""
    banned = {"pickle", "marshal", "shelve", "dill", "cloudpickle"}
    for source in (ROOT / "src" / "consentgen").rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
                if node.module == "jinja2":
                    assert not {a.name for a in node.names} & {
                        "FileSystemBytecodeCache", "BytecodeCache", "MemcachedBytecodeCache"
                    }, source  # fmt: skip
            else:
                continue
            assert not names & banned, (source, names & banned)


def _mutations(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:  # one byte flipped
        i = rng.randrange(len(data))
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
    if choice == 1:  # cut short
        return data[: rng.randrange(len(data))]
    if choice == 2:  # a byte replaced by any byte
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
    if choice == 3:  # another entry under this one's name
        return rng.choice(others)
    if choice == 4:  # garbage appended
        return data + rng.randbytes(rng.randrange(1, 40))
    return b""  # emptied


@pytest.mark.slow  # seconds: run in CI (.ci/run: pytest -m slow)
def test_corrupted_truncated_or_foreign_entries_are_rebuilt_never_trusted(tmp_path, cache_folder):
    request = Request(state="CA", setting="couples", clients=("A B",), as_of=DAY)

    def document() -> tuple[str, str]:
        from consentgen import jurisdictions

        jurisdictions._validated.clear()  # as a new process would start
        doc = build_document(request, practice=PROFILE)
        return render(doc, "md"), render(doc, "html")

    reference = document()
    entries = _entries(cache_folder)
    assert len(entries) > 10
    originals = {p: p.read_bytes() for p in entries}
    rng = random.Random(20261127)
    for _ in range(300):
        path = rng.choice(entries)
        data = originals[path]
        path.write_bytes(_mutations(data, rng, list(originals.values())))
        assert document() == reference, path
        path.write_bytes(data)


def test_a_truncated_html_entry_cannot_cut_the_legal_basis(tmp_path, cache_folder):
    doc = build_document(Request(state="CA", as_of=DAY))
    reference = render(doc, "html")
    entries = [p for p in (cache_folder / "html").iterdir() if p.is_file()]
    assert entries
    for path in entries:
        path.write_bytes(path.read_bytes()[:125])
    assert render(doc, "html") == reference


def test_entries_from_other_code_are_not_used(tmp_path):
    """A change to any module (the loader, the validator), not just the version, keys anew."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "src", checkout / "src",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("jurisdictions", "templates"):
        (checkout / name).symlink_to(ROOT / name)
    folder = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "CONSENTGEN_CACHE_DIR": str(folder)}

    def build() -> list[Path]:
        run = subprocess.run(
            [sys.executable, "-m", "consentgen", *map(str, BUILD), "-o", str(tmp_path / "c.html"),
             "--force"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return _entries(folder / "jurisdictions")

    first = build()
    assert len(first) == 2 and build() == first  # US and CA, reused
    with (checkout / "src" / "consentgen" / "yamlio.py").open("a") as fh:
        fh.write("\n# a change to the loader\n")
    assert len(build()) == 4


def test_no_home_no_cache_no_traceback(cli, tmp_path, monkeypatch):
    import pwd

    monkeypatch.delenv("CONSENTGEN_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def no_entry(uid):
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    result = _build(cli, tmp_path / "c.md")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "c.md").read_text().startswith("#")


def test_an_edited_template_is_used_by_a_long_lived_process(tmp_path):
    data = tmp_path / "data"
    (data / "templates" / "sections").mkdir(parents=True)
    target = data / "templates" / "sections" / "emergencies.md.j2"
    shutil.copy(ROOT / "templates" / "sections" / "emergencies.md.j2", target)
    request = Request(state="CA", as_of=DAY)
    first = render(build_document(request, data_dirs=[data]), "md")
    target.write_text(target.read_text() + "\nEdited while the process ran.\n")
    second = render(build_document(request, data_dirs=[data]), "md")
    assert "Edited while the process ran." not in first
    assert "Edited while the process ran." in second


def test_without_posix_owners_the_cache_still_works(tmp_path, cache_folder, monkeypatch):
    """Windows has no os.geteuid and no meaningful mode bits: no crash, and the cache is used."""
    monkeypatch.delattr(cache.os, "geteuid")
    doc = build_document(Request(state="CA", as_of=DAY), practice=PROFILE)
    assert render(doc, "html")
    assert _entries(cache_folder)


def test_what_a_template_reads_is_taken_from_the_cache_only_when_it_is_plausible():
    from consentgen.rendering.markdown import _uses_from_plain

    good = [["req", "setting"], ["macros.md.j2"], ["payment", "telehealth"]]
    assert _uses_from_plain(good) == (
        ("req", "setting"),
        ("macros.md.j2",),
        ("payment", "telehealth"),
    )
    assert _uses_from_plain([["req"], [], None]) == (("req",), (), None)
    for bad in (
        None, {}, [["req"], []], [["profile"], [], []], [["req"], [1], []],
        [["req"], [], ["__class__()"]], [["req"], [], "payment"],
    ):  # fmt: skip
        assert _uses_from_plain(bad) is None, bad
