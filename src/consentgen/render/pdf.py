"""PDF from the document's HTML page, through WeasyPrint (the optional extra consentgen[pdf]).

Tagged PDF/UA for screen readers; the same document gives the same bytes (the PDF identifier
comes from the content, WeasyPrint writes no creation date, and the fonts it embeds carry a fixed
date); nothing is ever fetched.
"""

from __future__ import annotations

import hashlib
import os

from consentgen.errors import UserError


def to_pdf(html: str) -> bytes:
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher, URLFetchingError
    except ImportError:
        raise UserError("PDF output needs WeasyPrint: pip install 'consentgen[pdf]'") from None

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
