"""How to cite a case study: it names the original document, its publisher, year and section."""

import re

from django.utils.translation import gettext as _

from .models import CaseStudy


def reference(case: CaseStudy):
    """A reference in the French author-date style (ISO 690), as plain text.

    Follows `case.source` (fetch it with the case study).
    """
    source = case.source
    parts = (
        [f"{source.publishers or source.authors}."] if (source.publishers or source.authors) else []
    )
    parts.append(f"{source.title}.")
    if source.year:
        parts.append(f"{source.year}.")
    elif source.date_as_stated:
        parts.append(f"[{source.date_as_stated}].")
    else:
        parts.append("[s. d.].")
    if case.source_section:
        parts.append(f"{case.source_section}.")
    parts.append(
        _("Case study « %(title)s » written from this document for innovplaces.")
        % {"title": case.title}
    )
    return " ".join(parts)


def _bibtex_escape(text):
    text = text.replace("\\", r"\textbackslash{}")
    return re.sub(r"([{}%&$#_])", r"\\\1", text)


def bibtex(case: CaseStudy, url):
    source = case.source
    fields = {
        "title": source.title,
        "author": "{" + (source.publishers or source.authors or "Anonyme") + "}",
        "institution": source.publishers,
        "year": str(source.year) if source.year else "",
        "note": f"{case.source_section}. Fiche « {case.title} », innovplaces",
        "url": url,
        "language": "french",
    }
    lines = [f"@techreport{{{case.slug},"]
    for name, value in fields.items():
        if not value:
            continue
        value = value if name == "author" else _bibtex_escape(value)
        if name == "author":
            value = "{" + _bibtex_escape(value[1:-1]) + "}"
        lines.append(f"  {name} = {{{value}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def csl_json(case: CaseStudy, url):
    source = case.source
    item = {
        "id": case.slug,
        "type": "report",
        "title": source.title,
        "author": [{"literal": source.publishers or source.authors or "Anonyme"}],
        "publisher": source.publishers,
        "section": case.source_section,
        "note": f"Fiche « {case.title} », innovplaces",
        "URL": url,
        "language": "fr",
    }
    if source.year:
        item["issued"] = {"date-parts": [[source.year]]}
    return {key: value for key, value in item.items() if value}
