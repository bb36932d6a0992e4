"""PDF of a monograph, rendered by WeasyPrint from a print template.

WeasyPrint is pure Python on top of Debian's Pango; it lays out HTML and CSS for paged
media (A4, footnotes, page numbers), which the print stylesheet already describes. The
renderer may only read the project's own static files: any other URL is refused, so
rendering never touches the network.
"""

import threading
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


class PDFUnavailable(Exception):
    """The PDF library or its system libraries are missing on this server."""


def local_only_fetcher(url, *args, **kwargs):
    raise ValueError(f"refused to fetch {url!r}: PDF rendering stays offline")


_local = threading.local()


def font_config():
    """This thread's WeasyPrint font configuration, made once. Left to WeasyPrint, each
    PDF made its own, whose fonts Pango and fontconfig never free: a worker grew by about
    0.3 MB a PDF (160 MB over 600). The print stylesheet declares no @font-face, so
    nothing is added to it from one PDF to the next."""
    found = getattr(_local, "font_config", None)
    if found is None:
        from weasyprint.text.fonts import FontConfiguration

        found = _local.font_config = FontConfiguration()
    return found


def stylesheet():
    path = finders.find("css/pdf.css")
    return Path(path).read_text(encoding="utf-8") if path else ""


def render_case_study(request, case):
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        raise PDFUnavailable(
            _("PDF export is not available on this server (%(error)s).") % {"error": error}
        ) from error
    html = render_to_string(
        "casestudies/casestudy_pdf.html",
        {
            "casestudy": case,
            "css": stylesheet(),
            "page_url": request.build_absolute_uri(case.get_absolute_url()),
        },
        request=request,
    )
    document = weasyprint.HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=local_only_fetcher
    )
    return document.write_pdf(font_config=font_config())
