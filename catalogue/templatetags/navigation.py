"""The site's header and footer: the main navigation with the current section marked,
the language switch, the footer links."""

import functools

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from catalogue.seo import page_url

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


@functools.lru_cache(maxsize=256)
def _drawn(template_name, section, _language, _prefix):
    return mark_safe(render_to_string(template_name, {"section": section}))


def _once(template_name, section=""):
    """``template_name`` drawn once per language, URL prefix and section: it holds no
    data, only links and words (drawn every time in DEBUG, so that edits show at once)."""
    if settings.DEBUG:
        return mark_safe(render_to_string(template_name, {"section": section}))
    return _drawn(template_name, section, translation.get_language(), get_script_prefix())


@register.simple_tag(takes_context=True)
def main_nav(context):
    """The main navigation, the current page's section marked."""
    return _once("includes/main_nav.html", current_section(context))


@register.simple_tag
def site_footer():
    return _once("includes/site_footer.html")


# The name of each language in itself, whatever the page's language.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


# Drawn by Jinja2 (catalogue/jinja.py), as every page has it.
LANGUAGE_SWITCH = "includes/language_switch.html"


@register.simple_tag(takes_context=True)
def language_switch(context):
    """Links to the same page (query string kept) in each language, the current one
    marked: plain links, so that pages set no cookie and work without JavaScript."""
    from catalogue import jinja  # here: it imports the map, which imports the views

    return jinja.render(LANGUAGE_SWITCH, {"links": language_links(context.get("request"))})


def language_links(request):
    """[{code, name, url, current}] of the language switch."""
    current = translation.get_language()
    full_path = request.get_full_path()
    path, mark, query = full_path.partition("?")
    links = []
    for code, _name in settings.LANGUAGES:
        url = page_url(request, code, path) + mark + query
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
    return links
