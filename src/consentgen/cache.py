"""The per-user cache: validated jurisdiction files and practice profiles, and the HTML of sections.

It keeps a cold `consentgen build` near the cost of importing its libraries. Nothing in it is code
and nothing in it is trusted:

- It is used only when its folder, and every folder above it, is safe: owned by this user (or
  root, for the folders above) and writable by no one else (a sticky folder such as /tmp is
  allowed above it). Folders are made 0700, files 0600. Otherwise the build runs without a cache
  and says so once (a `CacheWarning`; the CLI prints it as one line).
- Entries are JSON: plain data, which the caller validates again on load (jurisdiction files and
  profiles go through the same validator as their YAML). No pickle, no marshal.
- Each entry names what it is (kind and key) and carries the sha256 of its value. The key is a
  checksum of the entry's inputs and of the code that shapes it: every source file of consentgen
  and the libraries named by the caller. A truncated, corrupted, foreign or stale entry is
  ignored and rebuilt, never trusted.
- It never holds client data: section HTML is rendered from text that never contains names.

CONSENTGEN_CACHE_DIR moves it; set it empty to turn it off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from consentgen.errors import ConsentgenError
from consentgen.version import __version__

T = TypeVar("T")

ENV_DIR = "CONSENTGEN_CACHE_DIR"
FORMAT = 1
MAX_ENTRY_BYTES = 16 * 1024 * 1024


class CacheWarning(UserWarning):
    """The cache folder cannot be trusted, so this run does without it."""


def root() -> Path | None:
    """The cache folder, made if needed; None when it is turned off or cannot be trusted."""
    configured = os.environ.get(ENV_DIR)
    if configured == "":
        return None
    if configured:
        folder = Path(configured).absolute()
    else:
        base = os.environ.get("XDG_CACHE_HOME")
        if not base:
            try:
                base = str(Path.home() / ".cache")
            except (RuntimeError, KeyError):  # no HOME and no passwd entry: no cache, no fuss
                return None
        folder = Path(base).absolute() / "consentgen"
    return _checked_root(folder)


_warned: set[Path] = set()
# Folders found safe in this process, with what they were then (a changed folder is checked again).
_safe: dict[Path, tuple[int, int, int, int] | None] = {}


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_uid, info.st_mode)


def _checked_root(path: Path) -> Path | None:
    if path in _safe and _safe[path] == _identity(path):
        return path
    problem = _unsafe_ancestor(path.parent)
    if problem is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return None  # a read-only home, say: build without a cache, as before
        problem = _secure_folder(path)
    if problem is not None:
        if path in _warned:
            return None
        _warned.add(path)
        warnings.warn(
            f"not using the cache folder {path}: {problem}; building without a cache "
            f"(make the folder yours with mode 0700, or set {ENV_DIR} to another folder, "
            "or to nothing to turn the cache off)",
            CacheWarning,
            stacklevel=2,
        )
        return None
    _safe[path] = _identity(path)
    return path


def _uid() -> int | None:
    """This user's id; None where the system has none (Windows: folder ACLs are not checked)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _unsafe_ancestor(folder: Path) -> str | None:
    """Why a folder above the cache lets another user swap the cache folder, or None."""
    uid = _uid()
    if uid is None:
        return None
    for parent in (folder, *folder.parents):
        try:
            info = parent.lstat()
        except FileNotFoundError:
            continue  # made by us below, with mode 0700
        except OSError as exc:
            return f"{parent} cannot be inspected ({exc.strerror or exc})"
        if stat.S_ISLNK(info.st_mode):
            if info.st_uid not in (uid, 0):
                return f"{parent} is a link that belongs to another user"
            info = parent.stat()  # a link of ours is as safe as the folder it names
        if info.st_uid not in (uid, 0):
            return f"{parent} belongs to another user"
        if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            return f"{parent} can be changed by other users"
    return None


def _secure_folder(path: Path) -> str | None:
    """Why `path` cannot hold the cache, or None; a folder of ours that others can only read is
    made private."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"it cannot be inspected ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return "it is not a plain folder"
    if _uid() is None:
        return None  # no POSIX owner or mode bits to check
    if info.st_uid != _uid():
        return "it belongs to another user"
    if info.st_mode & 0o022:
        return "other users can write in it"
    if info.st_mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError as exc:
            return f"it cannot be made private ({exc.strerror or exc})"
    return None


def folder(kind: str) -> Path | None:
    """The cache's folder for one kind of entry, or None (no cache)."""
    top = root()
    if top is None:
        return None
    path = top / kind
    if path in _safe and _safe[path] == _identity(path):
        return path
    try:
        path.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    if _secure_folder(path) is not None or not os.access(path, os.W_OK):
        return None
    _safe[path] = _identity(path)
    return path


@functools.cache
def _source_stamp() -> str:
    """consentgen's version, every one of its source files, and the Python version."""
    h = hashlib.sha256(f"{__version__}\0{sys.version_info[:2]}\0".encode())
    package = os.path.dirname(os.path.abspath(__file__))
    sources = []
    for parent, folders, files in os.walk(package):
        folders[:] = [f for f in folders if f != "__pycache__"]
        sources += [os.path.join(parent, f) for f in files if f.endswith(".py")]
    for source in sorted(sources):
        with open(source, "rb") as fh:
            h.update(os.path.relpath(source, package).encode() + b"\0" + fh.read())
    return h.hexdigest()


@functools.cache
def _library_stamp(name: str) -> str:
    """A library's top-level module, which holds its version, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec else None
    data = Path(origin).read_bytes() if origin and os.path.isfile(origin) else b"?"
    return hashlib.sha256(name.encode() + b"\0" + data).hexdigest()


def code_stamp(*libraries: str) -> str:
    """A checksum of everything that shapes a cached entry: consentgen's own source files, the
    Python version, and the named libraries."""
    return "\0".join([_source_stamp(), *(_library_stamp(name) for name in libraries)])


def entry_key(kind: str, digest: str, libraries: tuple[str, ...] = ()) -> str:
    return hashlib.sha256(f"{kind}\0{digest}\0{code_stamp(*libraries)}".encode()).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")  # fmt: skip


def load(kind: str, key: str) -> Any:
    """The plain value stored under `key`, or None when there is no trustworthy entry."""
    directory = folder(kind)
    if directory is None:
        return None
    path = directory / f"{key}.json"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if (
                not stat.S_ISREG(info.st_mode)
                or (_uid() is not None and (info.st_uid != _uid() or info.st_mode & 0o022))
                or info.st_size > MAX_ENTRY_BYTES
            ):
                return None
            raw = fh.read(MAX_ENTRY_BYTES + 1)
        entry = json.loads(raw.decode("utf-8"))
        if (
            not isinstance(entry, dict)
            or entry.get("format") != FORMAT
            or entry.get("kind") != kind
            or entry.get("key") != key
            or "value" not in entry
            or entry.get("sha256") != hashlib.sha256(_canonical(entry["value"])).hexdigest()
        ):
            return None
        return entry["value"]
    except (OSError, ValueError, RecursionError, TypeError, MemoryError):
        return None  # truncated, corrupted or not ours: rebuilt by the caller


def store(kind: str, key: str, value: Any) -> None:
    """Keep a plain value (JSON data) under `key`; any failure just leaves it uncached."""
    directory = folder(kind)
    if directory is None:
        return
    try:
        payload = _canonical(value)
    except (TypeError, ValueError, RecursionError):
        return  # not plain data: not cached
    entry = {"format": FORMAT, "kind": kind, "key": key,
             "sha256": hashlib.sha256(payload).hexdigest(), "value": value}  # fmt: skip
    text = json.dumps(entry, ensure_ascii=False, allow_nan=False).encode("utf-8")
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp makes it 0600
            fh.write(text)
        os.replace(tmp, directory / f"{key}.json")
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def cached(
    kind: str,
    digest: str,
    produce: Callable[[], tuple[T, Any]],
    rebuild: Callable[[Any], T | None],
    libraries: tuple[str, ...] = (),
) -> T:
    """The value for inputs `digest`: rebuilt from a trustworthy entry, else produced and stored.

    `produce()` returns (value, plain data to store); `rebuild(plain)` validates stored data and
    returns the value, or None (or raises ValueError) when the data is not acceptable.
    """
    key = entry_key(kind, digest, libraries)
    plain = load(kind, key)
    if plain is not None:
        try:
            value = rebuild(plain)
        except (ConsentgenError, ValueError, TypeError, KeyError, RecursionError):
            value = None
        if value is not None:
            return value
    value, plain = produce()
    store(kind, key, plain)
    return value


def yaml_to_plain(data: Any) -> Any:
    """Loaded YAML (mappings, lists, scalars, dates) as JSON data; a date becomes {"$date": ...}.

    Raises TypeError for anything else, so it is simply not cached.
    """
    import datetime as dt

    if isinstance(data, dict):
        if "$date" in data:
            raise TypeError("a mapping with a '$date' key is not cached")
        return {str(k): yaml_to_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [yaml_to_plain(v) for v in data]
    if isinstance(data, dt.date) and not isinstance(data, dt.datetime):
        return {"$date": data.isoformat()}
    if data is None or isinstance(data, str | bool | int | float):
        return data
    raise TypeError(f"{type(data).__name__} is not cached")


def plain_to_yaml(data: Any) -> Any:
    """The inverse of yaml_to_plain; ValueError on a malformed date."""
    if isinstance(data, dict):
        if len(data) == 1 and isinstance(data.get("$date"), str):
            return _date(data["$date"])
        # Scalars, most of a file, are taken as they are, without a call each.
        return {k: plain_to_yaml(v) if isinstance(v, dict | list) else v for k, v in data.items()}
    if isinstance(data, list):
        return [plain_to_yaml(v) if isinstance(v, dict | list) else v for v in data]
    return data


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)
