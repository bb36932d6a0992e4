from decimal import Decimal

from django import template
from django.utils.formats import date_format, number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from catalogue import images, proposals
from catalogue.models import is_localized

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
def lang_of(obj, field):
    """` lang="fr"` on an element showing ``field`` when English is asked for and that text
    has no English version yet (screen readers then read it as French)."""
    if is_localized(obj, field):
        return ""
    return mark_safe(' lang="fr"')
