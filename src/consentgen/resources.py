"""Where the built-in data lives, and the user folders searched before it.

In a wheel, jurisdictions/ and templates/ ship as consentgen/data/…; in a source checkout
(editable install, tests) they are the repository's top-level folders.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from consentgen.errors import UserError
from consentgen.values import FrozenValue, frozen_value

ENV_PATH = "CONSENTGEN_PATH"


def builtin_root() -> Path:
    # consentgen is installed as plain files (never zipped), so a path next to this module works,
    # and avoids importlib.resources' start-up cost.
    packaged = Path(__file__).resolve().parent / "data"
    if (packaged / "jurisdictions").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "jurisdictions").is_dir():
        return checkout
    raise UserError("consentgen's built-in data is missing; reinstall consentgen")


@frozen_value(kw_only=False)
class SearchPath(FrozenValue):
    """User folders first (each mirrors the built-in layout), then the built-in data."""

    user_dirs: tuple[Path, ...]
    builtin: Path

    @classmethod
    def make(cls, data_dirs: tuple[Path, ...] | list[Path] = ()) -> SearchPath:
        dirs = [Path(d) for d in data_dirs]
        env = os.environ.get(ENV_PATH, "")
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
        for d in dirs:
            if not d.is_dir():
                raise UserError(f"data folder {d} does not exist; check --data-dir or {ENV_PATH}")
        return cls(tuple(dirs), builtin_root())

    def roots(self) -> tuple[tuple[Path, str], ...]:
        """(folder, origin label) pairs, in search order."""
        return (*((d, str(d)) for d in self.user_dirs), (self.builtin, "built-in"))

    def find(self, relative: str) -> tuple[Path, str] | None:
        for root, origin in self.roots():
            candidate = root / relative
            if candidate.is_file():
                return candidate, origin
        return None

    def template_dirs(self) -> list[str]:
        return [
            str(root / "templates") for root, _ in self.roots() if (root / "templates").is_dir()
        ]


def files_fingerprint(folders: Iterable[str]) -> tuple[tuple[str, int, int, int], ...]:
    """(path, size, mtime_ns, inode) of every file under `folders`: what tells a long-lived
    process that a template changed."""
    found = []
    for folder in folders:
        for parent, _dirs, names in os.walk(folder):
            for name in names:
                path = os.path.join(parent, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                found.append((path, info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(sorted(found))
