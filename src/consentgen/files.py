"""Writing files that may hold clients' names: atomically, owner-only, never through a link."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from consentgen.errors import UserError

TEMP_PREFIX = ".consentgen-"
# A temporary file names the process writing it, so that a later run can tell a live writer's
# file from one left by a process that was killed, and remove the latter (it may hold names).
_TEMP = re.compile(r"\.consentgen-(\d+)-[0-9a-f]{12}\.tmp")
_OLD_TEMP = re.compile(r"\.consentgen-[a-z0-9_]{8}")  # tempfile.mkstemp names of before
_OLD_TEMP_AGE = 3600.0  # seconds: no write takes that long


class AlreadyExists(UserError):
    """The file appeared (or was there) and replacing it was not asked for."""


def write_atomic(
    path: Path,
    content: str | bytes | Iterable[bytes],
    *,
    replace: bool = True,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Temporary file in the same folder, mode 0600, fsync, then into place under `path`.

    A reader never sees a half-written file, and on any failure (a full disk, say) the temporary
    file is removed and whatever was at `path` is left as it was. With `replace=False` a file
    that exists, or appears while this one is written, is never replaced (AlreadyExists): the
    file goes into place with a hard link, which fails when the name is taken, rather than
    with a rename, which would replace it. `before_commit` runs once the content is safely on
    disk and before it takes the name (to record it first in a batch's journal); if it raises,
    nothing takes the name.
    """
    staged = stage(path, content, replace=replace, durable=True)
    if before_commit is not None:
        with staged.or_discard():
            before_commit()
    staged.put_in_place()


class Staged:
    """A file's content written beside it under a temporary name (`stage`), to be put in place
    under its name (`put_in_place`) or removed (`discard`). Many staged files can be made durable
    together (`make_durable`), for a batch's chunk of documents."""

    __slots__ = ("path", "placed", "replace", "tmp")

    def __init__(self, path: Path, tmp: Path, replace: bool) -> None:
        self.path, self.tmp, self.replace = path, tmp, replace
        self.placed = False

    def put_in_place(self) -> None:
        """Give the content its name: AlreadyExists if the name is taken and replacing it was not
        asked for; on any failure the temporary file is removed and the name left as it was."""
        with self.or_discard():
            if self.replace:
                os.replace(self.tmp, self.path)
            elif _link_no_replace(self.tmp, self.path):
                self.tmp.unlink()
        self.placed = True

    def discard(self) -> None:
        """Remove the temporary file, unless it took its name."""
        if not self.placed:
            self.tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def or_discard(self) -> Iterator[None]:
        """On any failure inside, remove the temporary file, so the name is left as it was: a
        name taken meanwhile is AlreadyExists, any other OSError the one-line UserError."""
        try:
            yield
        except FileExistsError:
            self.discard()
            raise AlreadyExists(f"{self.path} already exists; use --force to replace it") from None
        except OSError as exc:
            self.discard()
            raise UserError(f"could not write {self.path}: {exc.strerror or exc}; nothing was "
                            "changed there") from None  # fmt: skip
        except BaseException:
            self.discard()
            raise


def stage(
    path: Path, content: str | bytes | Iterable[bytes], *, replace: bool, durable: bool
) -> Staged:
    """Write `content` beside `path` under a temporary name, mode 0600, never through a link;
    with `durable`, on disk (fsync) before this returns. Errors as write_atomic's."""
    # An iterable of bytes is written piece by piece (a large manifest is never one string).
    chunks: Iterable[bytes] = (
        (content.encode("utf-8"),) if isinstance(content, str)
        else (content,) if isinstance(content, bytes | bytearray) else content
    )  # fmt: skip
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_symlink():
        raise UserError(f"{path} is a symbolic link; refusing to write through it")
    if not replace and os.path.lexists(path):
        raise AlreadyExists(f"{path} already exists; use --force to replace it")
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}.tmp"  # not `secrets`: +5 ms
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise UserError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    staged = Staged(path, tmp, replace)
    with staged.or_discard():
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    return staged


def make_durable(staged: list[Staged], also: tuple[int, ...] = ()) -> None:
    """Put the content of every staged file, and of the open files `also`, on disk, before any of
    them takes its name. On Linux one syncfs(2) of their file system does it for all of them
    (a batch's chunk of documents: one sync instead of one fsync a file); elsewhere, an fsync of
    each. OSError if the system reports a write that failed."""
    if not staged and not also:
        return
    syncfs = _syncfs()
    if syncfs is not None:
        folder = staged[0].tmp.parent if staged else None
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)) if folder else also[0]
        try:
            if syncfs(fd) != 0:
                import ctypes

                code = ctypes.get_errno()
                raise OSError(code, os.strerror(code))
        finally:
            if folder:
                os.close(fd)
        return
    for file in staged:  # (opened for writing: Windows flushes only such a handle)
        fd = os.open(
            file.tmp, os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        )
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for fd in also:
        os.fsync(fd)


_SYNCFS: list[Callable[[int], int] | None] = []


def _syncfs() -> Callable[[int], int] | None:
    """libc's syncfs on Linux (since 2.6.39; it reports failed writes since 5.8), else None."""
    if not _SYNCFS:
        function = None
        if sys.platform.startswith("linux") and _linux_at_least(5, 8):
            try:
                import ctypes

                function = ctypes.CDLL(None, use_errno=True).syncfs
                function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
            except (ImportError, OSError, AttributeError):
                function = None
        _SYNCFS.append(function)
    return _SYNCFS[0]


def _linux_at_least(major: int, minor: int) -> bool:
    try:
        release = os.uname().release.split("-")[0].split(".")
        return (int(release[0]), int(release[1])) >= (major, minor)
    except (ValueError, IndexError):
        return False


def _link_no_replace(tmp: Path, path: Path) -> bool:
    """Give `tmp`'s content the name `path` unless that name exists (FileExistsError).

    True when `tmp` is still there to remove (it was linked), False when it was renamed.
    """
    try:
        os.link(tmp, path, follow_symlinks=False)
        return True
    except FileExistsError:
        raise
    except OSError as exc:
        # A file system without hard links: check, then rename (a window of microseconds).
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                             errno.ENOSYS):  # fmt: skip
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)
        return False


def remove_stale_temporary_files(folder: Path) -> None:
    """Remove temporary files that killed writers left in `folder` (they may hold names).

    A file of a process that still runs is kept; so is anything not named like our files.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        path = folder / name
        match = _TEMP.fullmatch(name)
        try:
            if match is not None:
                if _running(int(match.group(1))):
                    continue
            elif _OLD_TEMP.fullmatch(name):
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < _OLD_TEMP_AGE:
                    continue
            else:
                continue
            path.unlink()
        except (OSError, ValueError):
            continue


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:  # on Linux, a killed process nobody has reaped yet is a zombie: not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
