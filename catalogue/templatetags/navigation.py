"""The main navigation: which section the current page belongs to."""

from django import template

register = template.Library()

# (namespace, URL names) → section; the first match wins.
SECTIONS = [
    ("places", "catalogue", {"place-list", "place-detail", "territory-list", "territory-detail"}),
    ("map", "catalogue", {"map", "map-density", "embed"}),
    ("statistics", "catalogue", {"statistics"}),
    ("compare", "casestudies", {"compare", "compare-csv", "compare-selection"}),
    ("lessons", "casestudies", {"lesson-list", "lesson-themes"}),
    ("tables", "casestudies", {"table-list", "table-detail", "table-csv"}),
    (
        "cases",
        "casestudies",
        {"case-list", "case-detail", "sections-across", "case-pdf", "case-bibtex", "case-csl"},
    ),
    ("sources", "catalogue", {"source-list", "source-detail"}),
]


@register.simple_tag(takes_context=True)
def current_section(context):
    """The section of the page being shown ("places", "cases", …), or "" (home, errors:
    a 500 page has no request)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    for section, namespace, names in SECTIONS:
        if match.namespace == namespace and match.url_name in names:
            return section
    return ""
