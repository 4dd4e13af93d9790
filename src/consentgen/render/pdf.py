"""PDF from the document's HTML page, through WeasyPrint (the optional extra consentgen[pdf]).

Tagged PDF/UA for screen readers; the same document gives the same bytes (the PDF identifier
comes from the content, and WeasyPrint writes no creation date); nothing is ever fetched.
"""

from __future__ import annotations

import hashlib

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
    return page.write_pdf(pdf_identifier=identifier, pdf_variant="pdf/ua-1")
