"""PDF from the document's HTML page, through WeasyPrint (the optional extra consentgen[pdf]).

Tagged PDF/UA for screen readers; the same document gives the same bytes (the PDF identifier
comes from the content, WeasyPrint writes no creation date, and the fonts it embeds carry a fixed
date); nothing is ever fetched.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from consentgen.errors import UserError

MISSING_WEASYPRINT = (
    "PDF output needs WeasyPrint: pip install 'weasyprint>=62' (in a consentgen checkout: "
    "pip install '.[pdf]')"
)
MISSING_PANGO = (
    "PDF output needs the Pango library, which WeasyPrint could not load; install it "
    "(Debian/Ubuntu: sudo apt install libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install "
    "pango; Windows: Pango through MSYS2, see consentgen's README) and try again"
)


def require() -> Any:
    """The weasyprint module, or one line saying what to install (never a traceback)."""
    try:
        import weasyprint
    except ImportError:
        raise UserError(MISSING_WEASYPRINT) from None
    except OSError:  # cffi: "cannot load library 'libgobject-2.0-0'" and the like
        raise UserError(MISSING_PANGO) from None
    return weasyprint


def to_pdf(html: str) -> bytes:
    weasyprint = require()
    from weasyprint.urls import URLFetcher, URLFetchingError

    class NoFetching(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> object:
            raise URLFetchingError(f"consentgen fetches nothing ({url})")

    identifier = hashlib.sha256(html.encode("utf-8")).digest()[:16]
    page = weasyprint.HTML(string=html, url_fetcher=NoFetching())
    # Without the HarfBuzz subsetting library, WeasyPrint subsets fonts with fontTools, which
    # stamps each font with the current time unless SOURCE_DATE_EPOCH (reproducible-builds.org)
    # is set: without it, no two PDFs of one document would have the same bytes.
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = saved or "0"
    try:
        return page.write_pdf(pdf_identifier=identifier, pdf_variant="pdf/ua-1")
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
