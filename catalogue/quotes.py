"""Texts that still quote a figure's old value after an editor changed it.

A value of 20,000,000 € is written « 20 M€ », « 20 millions d'euros », « 20 000 000 € » or
« 20 000 000 » in French (« €20 million », « 20,000,000 » in English); 1,200,000 € is
« 1,2 M€ », 350,000 € « 350 k€ », 35 % « 35 % ». `value_pattern` builds one regular
expression that finds these spellings and no longer number (« 120 M€ » does not quote 20).
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

SPACE = r"[ \u00a0\u202f]"
# A number may not be the tail of a longer one (« 1 200 » is not « 200 ») ...
NOT_AFTER_NUMBER = r"(?<![\d])(?<!\d[ \u00a0\u202f.,])"
# ... nor its head (« 20 000 » is not « 20 »; « 20,5 » is not « 20 »).
NOT_BEFORE_NUMBER = r"(?![\d]|[ \u00a0\u202f.,]\d)"
EURO = r"(?:€|euros?\b|EUR\b)"
MILLION = (
    rf"(?:M{SPACE}?€|M{SPACE}?EUR\b|MEUR\b|M\b|m\b|millions?\b"
    rf"(?:{SPACE}+d['’]{SPACE}?euros\b|{SPACE}*€)?|mn\b)"
)
BILLION = (
    rf"(?:Mds?{SPACE}?€|Mds?\b|milliards?\b"
    rf"(?:{SPACE}+d['’]{SPACE}?euros\b|{SPACE}*€)?|bn\b|billions?\b)"
)
THOUSAND = rf"(?:[kK]{SPACE}?€|[kK]{SPACE}?EUR\b|[kK]\b|KEUR\b|mille{SPACE}+euros\b)"
# Units whose values are written with a sign (€, %, m²) that makes a quote recognisable.
UNITS_WITH_SIGNS = {"eur", "pct", "m2"}
PERCENT = rf"(?:%|pour{SPACE}?cent\b|pourcent\b|per{SPACE}?cent\b)"


def _plain(value):
    value = Decimal(value)
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _digits(value):
    """The number as written: « 20 000 000 », « 20000000 », « 20.000.000 », « 20,000,000 »;
    a decimal part with a comma or a point (« 1,2 », « 1.2 »)."""
    text = _plain(value)
    whole, _sep, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    if len(groups) > 1:
        # The same separator throughout, or none.
        pattern = (
            "(?:"
            + "|".join(
                re.escape(sep).join(groups) for sep in ("", " ", "\u00a0", "\u202f", ".", ",")
            )
            + ")"
        )
    else:
        pattern = groups[0]
    if fraction:
        pattern += rf"[.,]{fraction}0*"
    return pattern


def _scaled(value, factor, max_decimals):
    """`value / factor` as digits if it is written that way (« 1,2 » millions), else None."""
    scaled = Decimal(value) / factor
    if scaled < Decimal("0.1") or scaled != round(scaled, max_decimals):
        return None
    return _digits(scaled)


def value_pattern(value, unit):
    """A compiled regular expression matching `value` (a Decimal in the indicator's unit:
    euros, percent, people...) as people write it."""
    value = Decimal(value)
    number = _digits(value)
    forms = []
    if unit == "eur":
        forms.append(rf"{number}{SPACE}*{EURO}")
        if value >= 1000:
            forms.append(number)
        if value >= 1000 and (thousands := _scaled(value, 1000, 1)):
            forms.append(rf"{thousands}{SPACE}*{THOUSAND}")
        if value >= 100_000 and (millions := _scaled(value, 10**6, 3)):
            forms.append(rf"{millions}{SPACE}*{MILLION}")
            forms.append(rf"€{SPACE}?{millions}{SPACE}*{MILLION}")
        if value >= 10**8 and (billions := _scaled(value, 10**9, 3)):
            forms.append(rf"{billions}{SPACE}*{BILLION}")
        forms.append(rf"€{SPACE}?{number}")
    elif unit == "pct":
        forms.append(rf"{number}{SPACE}*{PERCENT}")
    elif unit == "m2":
        forms.append(rf"{number}{SPACE}*(?:m²|m2\b|mètres?{SPACE}+carrés?\b|square)")
        forms.append(number)
    else:
        forms.append(number)
    return re.compile(
        NOT_AFTER_NUMBER + "(?:" + "|".join(forms) + ")" + r"(?![\w²])" + NOT_BEFORE_NUMBER,
        re.IGNORECASE,
    )


@dataclass
class Quote:
    what: str
    url: str
    before: str
    match: str
    after: str


def excerpt(text, match, width=50):
    """(before, quoted, after): the words around a match, on one line."""
    start, end = match.start(), match.end()
    before = ("…" if start > width else "") + text[max(0, start - width) : start]
    after = text[end : end + width] + ("…" if end + width < len(text) else "")
    return tuple(" ".join(part.split("\n")) for part in (before, text[start:end], after))


def texts_of(place):
    """(what, admin URL, text) for every text written about `place` that may quote its
    figures: its summaries, its figures' labels, its fundings' labels, its lessons, the
    summaries and sections of its case studies."""
    place_url = reverse("admin:catalogue_place_change", args=[place.pk])
    yield _("Summary of the place"), f"{place_url}#id_summary", place.summary
    yield _("English summary of the place"), f"{place_url}#id_summary_en", place.summary_en
    for figure in place.figures.select_related("indicator"):
        yield (
            _("Label of the figure « %(indicator)s »") % {"indicator": figure.indicator},
            reverse("admin:catalogue_figure_change", args=[figure.pk]),
            figure.label,
        )
    for funding in place.fundings.select_related("organisation"):
        yield (
            _("Label of the funding by %(funder)s") % {"funder": funding.organisation},
            reverse("admin:catalogue_funding_change", args=[funding.pk]),
            funding.label,
        )
    for lesson in place.lessons.all():
        yield (
            _("Lesson « %(start)s… »") % {"start": lesson.text[:40]},
            reverse("admin:catalogue_lesson_change", args=[lesson.pk]),
            lesson.text,
        )
    # Case studies are reached through the reverse relation: catalogue never imports them.
    for case in place.case_studies.prefetch_related("sections"):
        case_url = reverse("admin:casestudies_casestudy_change", args=[case.pk])
        yield (
            _("Summary of the case study « %(title)s »") % {"title": case.title},
            f"{case_url}#id_summary",
            case.summary,
        )
        yield (
            _("English summary of the case study « %(title)s »") % {"title": case.title},
            f"{case_url}#id_summary_en",
            case.summary_en,
        )
        for index, section in enumerate(case.sections.all()):
            yield (
                _("Section « %(heading)s » of « %(title)s »")
                % {"heading": section.heading, "title": case.title},
                f"{case_url}#sections-{index}",
                f"{section.heading}\n{section.body}",
            )


def quoting(place, value, unit):
    """The texts about `place` that quote `value` (a Decimal in the unit `unit`).

    A count below 10 (« 3 salariés ») is not looked for: written without a unit, a digit
    that small is found in every text (« 3 ans », « 3 communes »), so the list would
    only be noise.
    """
    if unit not in UNITS_WITH_SIGNS and Decimal(value) < 10:
        return []
    pattern = value_pattern(value, unit)
    found = []
    for what, url, text in texts_of(place):
        if not text:
            continue
        match = pattern.search(text)
        if match:
            found.append(Quote(str(what), url, *excerpt(text, match)))
    return found
