"""Staged writes: many files made durable together, then given their names (a batch's chunk)."""

import ctypes
import os
import sys
from pathlib import Path

import pytest

from consentgen import files


def _staged(folder: Path, count: int) -> list[files.Staged]:
    return [files.stage(folder / f"{i}.md", f"document {i}", replace=False, durable=False)
            for i in range(count)]  # fmt: skip


def test_staged_files_take_their_names_only_when_put_in_place(tmp_path: Path) -> None:
    staged = _staged(tmp_path, 3)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
    files.make_durable(staged)
    for file in staged:
        file.put_in_place()
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == [f"document {i}" for i in range(3)]
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in tmp_path.iterdir())
    later = files.stage(tmp_path / "3.md", "mine", replace=False, durable=False)
    (tmp_path / "3.md").write_text("meanwhile")  # another process takes the name first
    with pytest.raises(files.AlreadyExists):
        later.put_in_place()
    assert (tmp_path / "3.md").read_text() == "meanwhile"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(files.TEMP_PREFIX)]


def test_one_sync_of_the_file_system_makes_a_chunk_durable(tmp_path, monkeypatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(files, "_SYNCFS", [lambda fd: synced.append(fd) or 0])
    fsynced: list[int] = []
    monkeypatch.setattr(os, "fsync", fsynced.append)
    files.make_durable(_staged(tmp_path, 5))
    assert len(synced) == 1 and fsynced == []


def test_without_syncfs_each_file_and_the_journal_are_fsynced(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(files, "_SYNCFS", [None])  # not Linux, or a kernel before 5.8
    journal = os.open(tmp_path / "journal", os.O_WRONLY | os.O_CREAT, 0o600)
    fsynced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: fsynced.append(os.fstat(fd).st_ino) or
                        real_fsync(fd))  # fmt: skip
    staged = _staged(tmp_path, 3)
    files.make_durable(staged, also=(journal,))
    os.close(journal)
    wanted = [s.tmp.stat().st_ino for s in staged] + [(tmp_path / "journal").stat().st_ino]
    assert fsynced == wanted


def test_a_sync_that_fails_is_an_error(tmp_path, monkeypatch) -> None:
    def failing(fd: int) -> int:
        ctypes.set_errno(5)
        return -1

    monkeypatch.setattr(files, "_SYNCFS", [failing])
    with pytest.raises(OSError, match="Input/output error"):
        files.make_durable(_staged(tmp_path, 2))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_linux_syncs_with_syncfs() -> None:
    if not files._linux_at_least(5, 8):
        pytest.skip("syncfs reports failed writes from Linux 5.8 on")
    assert files._syncfs() is not None
