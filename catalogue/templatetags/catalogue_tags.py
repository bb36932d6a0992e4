import functools
from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.formats import date_format, localize, number_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext as _

from catalogue import images, proposals
from catalogue.facets import RANGE_FILTERS
from catalogue.models import Place, is_localized

register = template.Library()

UNIT_SUFFIX = {"eur": " €", "pct": " %", "m2": " m²"}


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return number_format(value, force_grouping=True)


@register.filter
def figure_value(figure):
    """« 400 – 500 » with its unit; reads `figure.indicator` (fetch it with the figures)."""
    text = _plain(figure.value)
    if figure.value_max is not None and figure.value_max != figure.value:
        text = _("%(low)s to %(high)s") % {"low": text, "high": _plain(figure.value_max)}
    return text + UNIT_SUFFIX.get(figure.indicator.unit, "")


@register.filter
def amount(value):
    return f"{_plain(value)} €" if value is not None else ""


@register.filter
def grouped(value):
    return _plain(value)


@register.simple_tag(takes_context=True)
def without_param(context, name):
    """The current URL's query string without ``name`` (and back to page one)."""
    query = context["request"].GET.copy()
    query.pop(name, None)
    query.pop("page", None)
    return f"?{query.urlencode()}" if query else "?"


@register.filter
def field_label(form, name):
    field = form.fields.get(name)
    return field.label if field is not None else name


@register.filter
def in_list(value, items):
    return value in (items or ())


@register.simple_tag
def place_image(place, sizes="100vw", max_width=None, lazy=True, css_class=""):
    """The place's image as an <img> with srcset, width, height and alt (nothing without one).

    Reads only the place's own columns: no query per card.
    """
    return images.image_tag(place, sizes=sizes, max_width=max_width, lazy=lazy, css_class=css_class)


class _Cards:
    """What every card of a page shares, looked up once: labels, URLs, choice labels."""

    # A slug is letters, digits, hyphens and underscores: safe to put in a URL as is.
    SLUG = "place-slug-placeholder"

    def __init__(self, selection, next_url):
        self.chosen = set(selection or ())
        self.place_url = escape(reverse("catalogue:place-detail", args=[self.SLUG]))
        self.settings = {
            value: f'<span class="tag tag-setting">{escape(label)}</span>'
            for value, label in Place._meta.get_field("setting").flatchoices
        }
        self.kinds = {}
        compare, chosen = escape(_("Compare")), escape(f"✓ {_('In the comparison')}")
        # The compare button's form around the place's slug and name, by its state (no
        # placeholder is replaced: the return address is the visitor's own text).
        action = escape(reverse("casestudies:compare-selection"))
        head = (
            f'<form class="compare-toggle" method="post" action="{action}">'
            '<input type="hidden" name="lieu" value="'
        )
        self.forms = {
            state: (
                head,
                f'"><input type="hidden" name="next" value="{escape(next_url)}">'
                f'<button type="submit" name="action" value="{value}" aria-pressed="{pressed}" '
                f'data-on="{chosen}" data-off="{compare}"><span class="label">{label}</span>'
                '<span class="visually-hidden"> : ',
            )
            for state, value, pressed, label in (
                (False, "add", "false", compare),
                (True, "remove", "true", chosen),
            )
        }
        self.investment, self.budget = _("Investment"), _("Operating budget")
        self.matched = escape(_("Matched text:"))

    def setting_tag(self, setting):
        if not setting:
            return ""
        found = self.settings.get(setting)
        return found or f'<span class="tag tag-setting">{escape(setting)}</span>'

    def kind_tags(self, place):
        tags = []
        for kind in place.kinds.all():
            tag = self.kinds.get(kind.pk)
            if tag is None:
                tag = self.kinds[kind.pk] = f'<span class="tag">{escape(kind.display_name)}</span>'
            tags.append(tag)
        return "".join(tags)

    def card(self, place, name_html, summary_html):
        # Every value is escaped here (the marked name, summary and snippet are already
        # safe HTML: conditional_escape leaves them as they are).
        territory, region = place.territory, place.region
        line = (territory.name if territory else "") + (f", {region.name}" if region else "")
        if place.year_opened:
            line += f" · {localize(place.year_opened)}"
        slug = escape(place.slug)
        parts = [
            '<li class="card result">',
            images.image_tag(place, sizes="8rem", max_width=320, css_class="card-thumb"),
            f'<h3><a href="{self.place_url.replace(self.SLUG, slug)}">'
            f"{conditional_escape(name_html)}</a></h3>"
            f'<p class="meta">{self.kind_tags(place)}'
            f"{self.setting_tag(place.setting)} {escape(line)}</p>",
        ]
        if territory is not None and territory.population:
            text = _("%(name)s: %(population)s inhabitants") % {
                "name": territory.name,
                "population": _plain(territory.population),
            }
            if territory.population_year:
                text += f" ({localize(territory.population_year)})"
            parts.append(f'<p class="meta population">{escape(text)}</p>')
        figures = [
            f"{label} {amount(value)}"
            for label, value in (
                (self.investment, place.headline_investment),
                (self.budget, place.headline_budget),
            )
            if value is not None
        ]
        if figures:
            parts.append(f'<p class="meta figures-line">{escape(" · ".join(figures))}</p>')
        if summary_html:
            parts.append(f"<p>{conditional_escape(summary_html)}</p>")
        snippet = getattr(place, "search_snippet", "")
        if snippet:
            parts.append(
                f'<p class="search-snippet"><span class="visually-hidden">{self.matched} </span>'
                f"{conditional_escape(snippet)}</p>"
            )
        head, middle = self.forms[place.slug in self.chosen]
        parts += [head, slug, middle, escape(place.name), "</span></button></form></li>"]
        return "".join(parts)


@register.simple_tag
def result_cards(results, selection, next_url):
    """The directory's results as cards (``<li>``), each with its compare button: built
    here rather than in a template loop, which cost about 0.3 ms a card (a fifth of a
    directory page). ``results`` holds (place, highlighted name, highlighted summary cut
    to its first words); reads the places' kinds, territory and region (see
    `catalogue.place_page.attach_cards`)."""
    cards = _Cards(selection, next_url)
    return mark_safe("".join(cards.card(*result) for result in results))


@register.simple_tag
def range_filters(form):
    """The directory's bounds on years and figures (`catalogue.facets.RANGE_FILTERS`), in
    the form's order, open when one is given: one ``<details>`` written here, as the
    facets are."""
    fields = [form[name] for name in form.fields if name in RANGE_FILTERS]
    parts = [
        f'<details class="facet"{" open" if any(field.value() for field in fields) else ""}>'
        f'<summary>{escape(_("Years and figures"))}</summary><div class="ranges">'
    ]
    for field in fields:
        name, value = escape(field.name), field.value()
        invalid = ' aria-invalid="true"' if field.errors else ""
        parts.append(
            f'<div class="field"><label for="id_{name}">{escape(field.label)}</label>'
            f'<input type="number" name="{name}" id="id_{name}" value="{escape(value or "")}" '
            f'min="0" step="any" inputmode="numeric"{invalid}></div>'
        )
    parts.append("</div></details>")
    return mark_safe("".join(parts))


@register.simple_tag
def pending_proposal_count():
    """Proposals from the public waiting for a reviewer (one indexed count, admin index)."""
    return proposals.pending_count()


@register.filter
def is_document(source):
    """Whether facts taken from `source` name a section of it (a mémento, a study…)."""
    return source is not None and source.kind in source.DOCUMENT_KINDS


@register.filter
def provenance(fact):
    """Where a fact that comes from no document comes from, in words fitting its source:
    « Entretien avec Marie Dupont, 12 mars 2026 », « Visite du 3 février 2026 ». Reads
    `fact.source` (fetch it with the facts)."""
    source = fact.source
    kind = source.Kind
    date = date_format(source.date, "j F Y") if source.date else ""
    people = source.authors.strip()
    name = source.publishers.strip() or source.authors.strip() or source.title
    if source.kind == kind.INTERVIEW:
        if people and date:
            text = _("Interview with %(people)s, %(date)s") % {"people": people, "date": date}
        elif people:
            text = _("Interview with %(people)s") % {"people": people}
        else:
            text = _("Interview, %(date)s") % {"date": date} if date else _("Interview")
    elif source.kind == kind.WEBSITE:
        site = source.title or name
        if date:
            text = _("Website of %(site)s, read on %(date)s") % {"site": site, "date": date}
        else:
            text = _("Website of %(site)s") % {"site": site}
    elif source.kind == kind.ANNUAL_REPORT:
        year = source.date.year if source.date else source.year
        text = _("Annual report %(year)s") % {"year": year} if year else _("Annual report")
        if source.publishers or source.authors:
            text = f"{text} — {source.publishers or source.authors}"
    elif source.kind == kind.VISIT:
        text = _("Visit on %(date)s") % {"date": date} if date else _("Site visit")
        if people:
            text = f"{text} ({people})"
    elif source.kind == kind.PRESS:
        text = _("Press article « %(title)s »") % {"title": source.title}
        details = [part for part in (source.publishers, date) if part]
        if details:
            text = f"{text}, {', '.join(details)}"
    else:
        text = str(source)
    if fact.section:
        text = f"{text}, {fact.section}"
    return text


@register.simple_tag
def source_ref(fact, sep, link=False):
    """Where a figure, funding or lesson comes from: its document and the section, joined
    by ``sep``, or in words for an interview, a visit… (`provenance`); linked to the
    source's page when ``link``. Written here rather than included from a template, once
    per fact shown: 0.09 ms a fact instead of 0.14 at 100,000 places. ``link`` may be
    the function that gives the link (a Jinja2 template's ``link``)."""
    source = fact.source
    url = (link(source) if callable(link) else source.get_absolute_url()) if link else ""
    if is_document(source):
        return _document_ref(url, str(source), sep, isinstance(sep, SafeData), fact.section)
    text = provenance(fact)
    if link:
        return format_html('<a href="{}">{}</a>', url, text)
    return conditional_escape(text)


@functools.lru_cache(maxsize=4096)
def _document_ref(url, name, sep, sep_is_safe, section):
    """`source_ref` of a fact from a document: the same few documents and sections on
    every page, each written once (``sep_is_safe``: whether ``sep`` is safe HTML, which
    an equal plain string is not)."""
    if url:
        name = format_html('<a href="{}">{}</a>', url, name)
    return format_html("{}{}{}", name, sep, section)


@register.simple_tag
def lang_of(obj, field):
    """` lang="fr"` on an element showing ``field`` when English is asked for and that text
    has no English version yet (screen readers then read it as French)."""
    if is_localized(obj, field):
        return ""
    return mark_safe(' lang="fr"')
