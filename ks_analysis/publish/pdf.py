"""``report --pdf``: the rendered report as an A4 PDF beside rapport.html, made with WeasyPrint.

Boards' meeting systems take PDF, and the municipal reports the report is compared with are A4
PDFs. WeasyPrint lays out the same self-contained HTML (charts are embedded images), with a small
print stylesheet: A4 pages, margins, "Sida n av N" in the footer, and no page break inside a table
row or a chart. It never loads anything from the network: only ``data:`` URLs are fetched.
WeasyPrint needs Debian's pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``); ``.ci/run`` installs it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ks_analysis.errors import KsAnalysisError

__all__ = ["PRINT_CSS", "check_pdf_available", "write_pdf"]

log = logging.getLogger(__name__)

#: The print rules added to the report's own CSS (the footer text is for readers, in Swedish).
PRINT_CSS = """
@page {
  size: A4;
  margin: 16mm 15mm 18mm 15mm;
  @bottom-right { content: "Sida " counter(page) " av " counter(pages); font-size: 8pt; color: #555; }
}
html, body { background: #fff; }
body { max-width: none; margin: 0; padding: 0; }
tr, img, svg, figure { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
a { color: inherit; text-decoration: none; }
"""

_MISSING_LIBS = (
    "report --pdf needs WeasyPrint's system libraries (pango) and they could not be loaded ({exc}); "
    "on Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0, "
    "see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html"
)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the shared libraries are missing
        raise KsAnalysisError(_MISSING_LIBS.format(exc=str(exc).splitlines()[0])) from None
    return weasyprint


def check_pdf_available() -> None:
    """Raise KsAnalysisError (exit 2) now, before any kernel starts, if WeasyPrint cannot run."""
    err = None
    try:
        _weasyprint()
    except KsAnalysisError as exc:
        err = exc
    if err is not None:
        err.exit_code = 2
        raise err


def write_pdf(html: Path, pdf: Path) -> Path:
    """Lay out ``html`` (a self-contained report) as an A4 PDF at ``pdf``; return ``pdf``.

    Raises:
        KsAnalysisError: WeasyPrint's system libraries are missing.
    """
    weasyprint = _weasyprint()
    # WeasyPrint warns about each screen-only CSS rule it skips (overflow-x, clip, media queries):
    # nothing a reader of the PDF or its maker can act on.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    started = time.monotonic()
    from weasyprint.urls import URLFetcher

    # Only data: URLs (the embedded charts); anything else is refused, never fetched.
    fetcher = URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(
        string=html.read_text(encoding="utf-8"), base_url=None, url_fetcher=fetcher
    ).render(stylesheets=[weasyprint.CSS(string=PRINT_CSS, url_fetcher=fetcher)])
    document.write_pdf(str(pdf))
    log.info(
        "wrote %s: %d A4 pages in %.1f s", pdf.name, len(document.pages), time.monotonic() - started
    )
    return pdf
