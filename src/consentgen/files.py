"""Writing files that may hold clients' names: atomically, owner-only, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

from consentgen.errors import UserError


def write_atomic(path: Path, content: str | bytes) -> None:
    """Temporary file in the same folder, mode 0600, fsync, then rename over `path`.

    A reader never sees a half-written file, and on any failure (a full disk, say) the temporary
    file is removed and whatever was at `path` is left as it was.
    """
    import tempfile

    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_symlink():
        raise UserError(f"{path} is a symbolic link; refusing to write through it")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".consentgen-", dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"could not write {path}: {exc.strerror or exc}; nothing was "
                        "changed there") from None  # fmt: skip
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
