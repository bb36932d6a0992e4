from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

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
