"""Server-drawn SVG charts: readable without JavaScript, in print and by screen readers.

Each function returns the markup of one ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` and text labels on every bar; colours come from CSS classes (static/css), never
from style attributes. The numbers are also given as a table next to every chart: the
picture is a summary, the table is the reference.
"""

import itertools
import math

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

WIDTH = 720
LABEL_WIDTH = 230
ROW = 26
BAR = 16
TOP = 8
_ids = itertools.count(1)


def _number(value):
    return number_format(value, force_grouping=True)


def _clip(text, length=30):
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def _tag(template, **values):
    """``format_html`` with numbers written to one decimal (coordinates)."""
    return format_html(
        template,
        **{key: f"{v:.1f}" if isinstance(v, float) else v for key, v in values.items()},
    )


def _svg(title, desc, height, body):
    ident = f"chart-{next(_ids)}"
    return format_html(
        '<svg class="chart-svg" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-labelledby="{i}-title {i}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{i}-title">{title}</title><desc id="{i}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=height,
        i=ident,
        title=title,
        desc=desc,
        body=body,
    )


def _label(y, text):
    return _tag(
        '<text class="chart-label" x="{x}" y="{y}" text-anchor="end">{t}</text>',
        x=LABEL_WIDTH - 8,
        y=y + BAR - 3,
        t=_clip(text),
    )


def bar_chart(title, desc, bars):
    """Horizontal bars: ``bars`` is a list of (label, value)."""
    if not bars:
        return ""
    top = max(value for _label, value in bars) or 1
    span = WIDTH - LABEL_WIDTH - 70
    parts = []
    for row, (label, value) in enumerate(bars):
        y = TOP + row * ROW
        length = span * value / top
        parts.append(_label(y, label))
        parts.append(
            _tag(
                '<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                '<text class="chart-value" x="{tx}" y="{ty}">{v}</text>',
                x=LABEL_WIDTH,
                y=y,
                w=length,
                h=BAR,
                tx=LABEL_WIDTH + length + 6,
                ty=y + BAR - 3,
                v=_number(value),
            )
        )
    return _svg(title, desc, TOP * 2 + len(bars) * ROW, mark_safe("".join(parts)))


def stacked_bar_chart(title, desc, series, bars):
    """Horizontal bars cut into coloured segments, with a legend.

    ``series`` is a list of (key, label); ``bars`` a list of (label, {key: value}). Each
    segment keeps its series' CSS class (``series-0``…) so that the legend matches it.
    """
    if not bars:
        return ""
    totals = [sum(values.values()) for _label, values in bars]
    top = max(totals) or 1
    span = WIDTH - LABEL_WIDTH - 70
    legend_rows = math.ceil(len(series) / 3)
    parts = []
    for index, (_key, label) in enumerate(series):
        x = 10 + (index % 3) * 236
        y = TOP + (index // 3) * 22
        parts.append(
            _tag(
                '<rect class="series-{i}" x="{x}" y="{y}" width="14" height="14"/>'
                '<text class="chart-legend" x="{tx}" y="{ty}">{label}</text>',
                i=index,
                x=x,
                y=y,
                tx=x + 20,
                ty=y + 12,
                label=_clip(label, 30),
            )
        )
    first = TOP + legend_rows * 22 + 10
    for row, ((label, values), total) in enumerate(zip(bars, totals, strict=True)):
        y = first + row * ROW
        parts.append(_label(y, label))
        x = LABEL_WIDTH
        for index, (key, _series_label) in enumerate(series):
            value = values.get(key, 0)
            if not value:
                continue
            length = span * value / top
            parts.append(
                _tag(
                    '<rect class="series-{i}" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                    i=index,
                    x=x,
                    y=y,
                    w=length,
                    h=BAR,
                )
            )
            x += length
        parts.append(
            _tag(
                '<text class="chart-value" x="{x}" y="{y}">{v}</text>',
                x=x + 6,
                y=y + BAR - 3,
                v=_number(total),
            )
        )
    height = first + len(bars) * ROW + TOP
    return _svg(title, desc, height, mark_safe("".join(parts)))


def column_chart(title, desc, columns):
    """Vertical bars along an axis (years): ``columns`` is a list of (label, value); every
    label is written when there is room, else one in five."""
    if not columns:
        return ""
    top = max(value for _label, value in columns) or 1
    left, bottom, height = 40, 40, 220
    step = (WIDTH - left - 10) / len(columns)
    every = 1 if step >= 30 else 5
    parts = [
        _tag(
            '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
            '<text class="chart-label" x="{tx}" y="{ty}" text-anchor="end">{top}</text>'
            '<line class="chart-grid" x1="{l}" y1="{g}" x2="{r}" y2="{g}"/>',
            l=left,
            r=WIDTH - 10,
            b=height - bottom,
            tx=left - 6,
            ty=TOP + 12,
            top=_number(top),
            g=TOP + 8,
        )
    ]
    usable = height - bottom - TOP - 8
    for index, (label, value) in enumerate(columns):
        x = left + index * step
        length = usable * value / top
        if value:
            parts.append(
                _tag(
                    '<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                    x=x + step * 0.1,
                    y=height - bottom - length,
                    w=step * 0.8,
                    h=length,
                )
            )
            if step >= 22:
                parts.append(
                    _tag(
                        '<text class="chart-value" x="{x}" y="{y}" text-anchor="middle">{v}</text>',
                        x=x + step / 2,
                        y=height - bottom - length - 4,
                        v=_number(value),
                    )
                )
        if index % every == 0 or index == len(columns) - 1:
            parts.append(
                _tag(
                    '<text class="chart-label" x="{x}" y="{y}" text-anchor="end" '
                    'transform="rotate(-45 {x} {y})">{t}</text>',
                    x=x + step / 2 + 4,
                    y=height - bottom + 14,
                    t=label,
                )
            )
    return _svg(title, desc, height, mark_safe("".join(parts)))


def money_short(value):
    """12 000 → « 12 k€ », 3 500 000 → « 3.5 M€ » (axis labels)."""
    value = float(value)
    for limit, unit in ((1e9, _("bn€")), (1e6, _("M€")), (1e3, _("k€"))):
        if value >= limit:
            shown = value / limit
            shown = round(shown, 1) if shown < 10 else round(shown)
            text = _number(int(shown) if shown == int(shown) else shown)
            return f"{text} {unit}"
    return f"{_number(round(value))} €"


def box_plot(title, desc, groups, too_few, boxes):
    """Box plots on a logarithmic axis (amounts span several orders of magnitude).

    ``groups`` is a list of (label, values sorted, stats or None): with stats (minimum,
    first quartile, median, third quartile, maximum), a box from quartile to quartile and
    whiskers to the extremes; without (too few values), one dot per value. A group whose
    values are None is a heading. A key under the axis says what dots (``too_few``) and
    boxes (``boxes``) stand for.
    """
    values = [v for _label, found, _stats in groups for v in found or () if v > 0]
    if not values:
        return ""
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    if high <= low:
        high = low * 10
    span = WIDTH - LABEL_WIDTH - 30
    axis_top = TOP + 18

    def x_of(value):
        value = max(float(value), low)
        return LABEL_WIDTH + span * (math.log10(value) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )

    bottom = axis_top + len(groups) * ROW + 4
    parts = []
    tick = low
    while tick <= high:
        x = x_of(tick)
        parts.append(
            _tag(
                '<line class="chart-grid" x1="{x}" y1="{t}" x2="{x}" y2="{b}"/>'
                '<text class="chart-label" x="{x}" y="{ty}" text-anchor="middle">{l}</text>',
                x=x,
                t=axis_top - 4,
                b=bottom,
                ty=TOP + 8,
                l=money_short(tick),
            )
        )
        tick *= 10
    for row, (label, found, stats) in enumerate(groups):
        y = axis_top + row * ROW
        middle = y + BAR / 2
        if found is None:
            parts.append(
                _tag('<text class="chart-heading" x="4" y="{y}">{t}</text>', y=y + BAR - 3, t=label)
            )
            continue
        parts.append(_label(y, label))
        if stats:
            minimum, q1, median, q3, maximum = (x_of(v) for v in stats)
            parts.append(
                _tag(
                    '<line class="chart-whisker" x1="{a}" y1="{m}" x2="{b}" y2="{m}"/>'
                    '<line class="chart-whisker" x1="{c}" y1="{m}" x2="{d}" y2="{m}"/>'
                    '<rect class="chart-box" x="{b}" y="{y}" width="{w}" height="{h}"/>'
                    '<line class="chart-median" x1="{e}" y1="{y}" x2="{e}" y2="{y2}"/>',
                    a=minimum,
                    b=q1,
                    c=q3,
                    d=maximum,
                    m=middle,
                    y=y,
                    w=max(q3 - q1, 1),
                    h=BAR,
                    e=median,
                    y2=y + BAR,
                )
            )
        elif found:
            parts.append(
                format_html_join(
                    "",
                    '<circle class="chart-dot" cx="{}" cy="{}" r="4"/>',
                    ((f"{x_of(v):.1f}", middle) for v in found),
                )
            )
    # The key: what a dot and a box stand for.
    key_y = bottom + 14
    parts.append(
        _tag(
            '<circle class="chart-dot" cx="{cx}" cy="{cy}" r="4"/>'
            '<text class="chart-note" x="{tx}" y="{ty}">{dots}</text>'
            '<rect class="chart-box" x="{bx}" y="{by}" width="22" height="10"/>'
            '<line class="chart-median" x1="{mx}" y1="{by}" x2="{mx}" y2="{my}"/>'
            '<text class="chart-note" x="{btx}" y="{ty}">{boxes}</text>',
            cx=LABEL_WIDTH + 4,
            cy=key_y - 4,
            tx=LABEL_WIDTH + 14,
            ty=key_y,
            dots=too_few,
            bx=LABEL_WIDTH + 250,
            by=key_y - 9,
            mx=LABEL_WIDTH + 261,
            my=key_y + 1,
            btx=LABEL_WIDTH + 280,
            boxes=boxes,
        )
    )
    return _svg(title, desc, key_y + TOP, mark_safe("".join(parts)))
