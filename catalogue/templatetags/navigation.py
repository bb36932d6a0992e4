"""The main navigation: which section the current page belongs to."""

from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation

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


# The name of each language in itself, whatever the page's language.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


@register.inclusion_tag("includes/language_switch.html", takes_context=True)
def language_switch(context):
    """Links to the same page (query string kept) in each language, the current one
    marked: plain links, so that pages set no cookie and work without JavaScript."""
    request = context.get("request")
    current = translation.get_language()
    full_path = request.get_full_path()
    links = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(full_path, code)
        if code != current and url == full_path:
            # A path no route knows (a 404): the other language's home page.
            with translation.override(code):
                url = reverse("home")
        links.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES.get(code, code),
                "url": url,
                "current": code == current,
            }
        )
    return {"links": links}
