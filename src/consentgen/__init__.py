"""consentgen: informed-consent documents that state where confidentiality ends, with citations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consentgen.version import __version__

__all__ = [
    "Request",
    "__version__",
    "batch",
    "build_document",
    "good_faith_estimate",
    "render",
    "render_estimate",
]

if TYPE_CHECKING:
    from consentgen.api import batch, build_document, good_faith_estimate, render, render_estimate
    from consentgen.model import Request


def __getattr__(name: str) -> Any:
    # Lazy, so `consentgen --version` and the CLI's start-up do not pay for the whole library.
    if name in ("batch", "build_document", "good_faith_estimate", "render", "render_estimate"):
        from consentgen import api

        return getattr(api, name)
    if name == "Request":
        from consentgen.model import Request

        return Request
    raise AttributeError(f"module 'consentgen' has no attribute {name!r}")
