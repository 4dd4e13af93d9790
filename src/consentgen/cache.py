"""The per-user cache of compiled templates and validated jurisdiction files.

Both are keyed by a checksum of their source and by consentgen's version, so an entry can never
be stale; neither holds client data. It is what keeps a cold `consentgen build` near the cost of
importing its libraries. CONSENTGEN_CACHE_DIR moves it; set it empty to turn it off.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from consentgen import __version__

T = TypeVar("T")


def cache_dir(kind: str) -> Path | None:
    configured = os.environ.get("CONSENTGEN_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        folder = Path(configured) / kind
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(base) / "consentgen" / kind
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


@functools.cache
def _model_stamp() -> str:
    """Pickles hold model classes: a change to model.py must not load objects of the old shape."""
    source = (Path(__file__).parent / "model.py").read_bytes()
    return hashlib.sha256(source).hexdigest()[:12]


def cached(kind: str, digest: str, produce: Callable[[], T]) -> T:
    """`produce()`, or its result from an earlier run for the same source `digest`."""
    folder = cache_dir(kind)
    if folder is None:
        return produce()
    path = folder / f"{__version__}-{_model_stamp()}-{digest}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    value = produce()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
    return value
