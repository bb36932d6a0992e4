"""Links from the directory's filter values (and the place pages) to the glossary."""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix
from django.utils.formats import localize
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalogue.glossary import term_for

register = template.Library()


@register.filter
def glossary_link(value, name):
    """A small link to the glossary entry that explains ``value`` of the filter ``name``
    (« kind », « legal_form », « funder_kind », « setting »), or nothing."""
    # The glossary is a file read once: each link is built once per language.
    return _glossary_link(name, str(value), get_language(), get_script_prefix())


@functools.lru_cache(maxsize=2048)
def _glossary_link(name, value, _language, _prefix):
    term = term_for(name, value)
    if term is None:
        return ""
    return format_html(
        '<a class="glossary-link" href="{url}"><span aria-hidden="true">?</span>'
        '<span class="visually-hidden">{label}</span></a>',
        url=term.url,
        label=_("%(term)s in the glossary") % {"term": term.name},
    )


@register.filter
def glossary_term(value, name):
    """The glossary entry that explains ``value`` of the filter ``name``, or None."""
    return term_for(name, value)


@register.simple_tag
def glossary_links(facet):
    """For a facet shown as a drop-down (no room for a link in an option): one line of
    links to the entries that explain its values."""
    found = []
    for option in facet.options:
        term = term_for(facet.name, option.value)
        if term is not None and term not in found:
            found.append(term)
    if not found:
        return ""
    return format_html(
        '<p class="glossary-links">{label} {links}</p>',
        label=_("Glossary:"),
        links=format_html_join(", ", '<a href="{}">{}</a>', ((t.url, t.name) for t in found)),
    )


@register.simple_tag
def facet_choices(facet, options=None):
    """The values of ``facet`` (or ``options``, a group of them) that have places or are
    chosen: checkboxes in list items, each with its glossary link, or the options of a
    drop-down. Written here rather than in a template loop: a directory page shows a
    few hundred of them, and a template takes ten times longer."""
    shown = [o for o in (facet.options if options is None else options) if o.count or o.selected]
    # Counts are whole numbers: written as the template would (localize), grouped only
    # when the site groups thousands.
    count = localize if settings.USE_THOUSAND_SEPARATOR else str
    name = escape(facet.name)
    if facet.multiple:
        return mark_safe(
            "".join(
                f'<li><label><input type="checkbox" name="{name}" value="{escape(o.value)}"'
                f"{' checked' if o.selected else ''}> {escape(o.label)} "
                f'<span class="count">{count(o.count)}</span></label>'
                f"{glossary_link(o.value, facet.name)}</li>"
                for o in shown
            )
        )
    return mark_safe(
        "".join(
            f'<option value="{escape(o.value)}"{" selected" if o.selected else ""}>'
            f"{escape(o.label)} ({count(o.count)})</option>"
            for o in shown
        )
    )


@register.simple_tag
def facet_block(facet, collapsed=False):
    """A facet's whole block: its checkboxes, or its drop-down with the glossary's links,
    in a ``<details>`` open unless ``collapsed`` (a long facet, nothing chosen). Nothing
    when no value has places or is chosen. Written here for the same reason as
    `facet_choices`."""
    if not facet.has_choice:
        return ""
    label = escape(facet.label)
    opened = not collapsed or len(facet.options) < 6 or facet.any_selected
    if facet.multiple:
        body = (
            f'<fieldset><legend class="visually-hidden">{label}</legend>'
            f'<ul class="facet-options">{facet_choices(facet)}</ul></fieldset>'
        )
    else:
        name = escape(facet.name)
        body = (
            f'<label class="visually-hidden" for="id_{name}">{label}</label>'
            f'<select name="{name}" id="id_{name}"><option value="">{escape(_("All"))}</option>'
            f"{facet_choices(facet)}</select>{glossary_links(facet)}"
        )
    return mark_safe(
        f'<details class="facet"{" open" if opened else ""}><summary>{label}</summary>'
        f"{body}</details>"
    )
