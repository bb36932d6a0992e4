"""What the admin tells an editor after saving figures: which figure became the headline
value of its indicator, which indicators are left without one, and which texts still quote
a value that just changed (each linked to where it is edited)."""

from django.contrib import messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext

from .headlines import settle_headlines
from .quotes import quoting
from .templatetags.catalogue_tags import figure_value


def _with_value(figure, value):
    """`figure_value` of the figure as if its value were `value` (its unit, grouping)."""
    current = figure.value, figure.value_max
    figure.value, figure.value_max = value, None
    try:
        return figure_value(figure)
    finally:
        figure.value, figure.value_max = current


def report_headlines(request, place_id, indicator_ids, promoted=()):
    """Give the only figure of each indicator touched its headline (settle_headlines) and
    say so; warn about indicators left with several figures and no headline."""
    settled, undecided = settle_headlines(place_id, indicator_ids)
    for figure in [*promoted, *settled]:
        messages.info(
            request,
            gettext(
                "« %(value)s » is now the headline value of « %(indicator)s »: it is the only "
                "figure of that indicator."
            )
            % {"value": figure_value(figure), "indicator": figure.indicator},
        )
    for indicator, count in undecided:
        messages.warning(
            request,
            ngettext(
                "« %(indicator)s » has %(count)d figure and no headline value.",
                "« %(indicator)s » has %(count)d figures and no headline value: tick "
                "« Headline value » on one of them, or the directory cannot sort or "
                "filter this place by it.",
                count,
            )
            % {"indicator": indicator, "count": count},
        )


def changed_values(forms):
    """[(figure, old, new)] for the saved figure forms whose value or upper bound changed."""
    changes = []
    for form in forms:
        if not form.instance.pk or not form.initial.get("indicator"):
            continue
        for name in ("value", "value_max"):
            old, new = form.initial.get(name), getattr(form.instance, name)
            if name in form.changed_data and old is not None and old != new:
                changes.append((form.instance, old, new))
    return changes


def report_old_values(request, place, changes):
    """Warn, for each changed value, about the texts that still quote the old one."""
    for figure, old, new in changes:
        quotes = quoting(place, old, figure.indicator.unit)
        if not quotes:
            continue
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> : {}<mark>{}</mark>{}</li>',
            ((q.url, q.what, q.before, q.match, q.after) for q in quotes),
        )
        messages.warning(
            request,
            format_html(
                "{}<ul>{}</ul>",
                gettext(
                    "« %(indicator)s » went from %(old)s to %(new)s; these texts still quote "
                    "the old value:"
                )
                % {
                    "indicator": figure.indicator,
                    "old": _with_value(figure, old),
                    "new": _with_value(figure, new) if new is not None else "—",
                },
                items,
            ),
        )
