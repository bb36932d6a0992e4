"""The catalogue as numbers: `/statistiques/` and one CSV per chart.

Every figure is computed over the places that the directory's query string selects
(`select_places`), with grouped queries in the database (counts) or over `values()` rows
(quartiles): a bounded number of queries whatever the number of places. Honesty rules:
every aggregate says over how many places it is taken, no median or quartile is computed
over fewer than ``MIN_FOR_QUARTILES`` places, and the places lacking a figure are counted.
"""

import csv
import hashlib
import statistics
from dataclasses import dataclass, field
from functools import cached_property

from django.core.cache import cache
from django.db.models import Count, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import charts
from .filters import AREA_SETTINGS, KIND_ALIASES, canonical_params
from .models import Funding, Lesson, Organisation, Place, PlaceKind, Setting
from .selection import select_places
from .versioning import data_version

MIN_FOR_QUARTILES = 5
# The numbers of a query string are kept until the catalogue changes (the data version
# changes with every save), or this long.
CACHE_SECONDS = 3600
NOT_STATED = "_"
# The directory parameters that the lessons library understands too (under its own names).
LESSON_PARAMS = {"kind": "place_kind", "setting": "setting", "region": "region"}


@dataclass
class Cell:
    value: object = None  # the number (or text) the CSV carries; None: nothing to say
    text: str = ""  # what the table shows
    url: str = ""  # the places (or lessons) behind the number
    header: bool = False


@dataclass
class Chart:
    slug: str
    title: str
    intro: str
    columns: list
    rows: list = field(default_factory=list)  # lists of Cells, the first one a row header
    notes: list = field(default_factory=list)
    svg: str = ""

    def __post_init__(self):
        self.columns = [str(column) for column in self.columns]  # no lazy text in the cache

    def csv_rows(self):
        yield [str(column) for column in self.columns]
        for row in self.rows:
            yield ["" if cell.value is None else cell.value for cell in row]


def _count(value):
    return number_format(value, force_grouping=True)


def _euros(value):
    return f"{number_format(round(value), force_grouping=True)} €"


def quartiles(values):
    """(minimum, Q1, median, Q3, maximum) of sorted ``values``, the quartiles interpolated
    linearly between ranks (as PostgreSQL's percentile_cont and most spreadsheets do)."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return values[0], q1, median, q3, values[-1]


class Statistics:
    """The numbers of one selection of places; each query runs once, when first needed."""

    def __init__(self, data):
        # Aliases rewritten as the directory does (« kind=coworking » is the service): the
        # links below then carry what the directory would read.
        self.data = canonical_params(data)
        self.selection = select_places(data)
        ids = self.selection.places.order_by().values("pk")
        self.places = Place.objects.filter(pk__in=ids).order_by()
        self.place_ids = ids

    # ------------------------------------------------------------------ links

    def url(self, changes, path=None):
        """The directory (or ``path``) with the current filters and ``changes`` applied
        ({name: value or list of values}); back to page one."""
        query = self.data.copy()
        for name in ("page", "per_page"):
            query.pop(name, None)
        for name, value in changes.items():
            query.setlist(name, value if isinstance(value, list) else [value])
        path = path or reverse("catalogue:place-list")
        return f"{path}?{query.urlencode()}" if query else path

    def narrowing(self, name, value):
        """Whether setting ``name`` to ``value`` alone keeps every other condition: true
        unless the parameter is in use without that value (a place of several kinds counted
        under a kind that was not asked for), or the directory reads the value as another
        filter (the kind « coworking » is the service)."""
        if name == "kind" and value in KIND_ALIASES:
            return False
        current = [v for v in self.data.getlist(name) if v]
        return not current or str(value) in current

    def directory_url(self, name, value, extra=None):
        if not self.narrowing(name, value):
            return ""
        return self.url({name: str(value), **(extra or {})})

    # ------------------------------------------------------------------ queries

    @cached_property
    def kind_names(self):
        return {kind.slug: kind.display_name for kind in PlaceKind.objects.all()}

    @cached_property
    def by_kind_setting(self):
        """{(kind slug, setting): (places, with investment, with operating budget)}."""
        rows = (
            self.places.values_list("kinds__slug", "setting")
            .annotate(
                n=Count("pk"),
                investment=Count("headline_investment"),
                budget=Count("headline_budget"),
            )
            .order_by()
        )
        return {(kind, setting): (n, inv, bud) for kind, setting, n, inv, bud in rows}

    @cached_property
    def by_setting(self):
        """{setting: (places, with investment, with operating budget)}: each place once."""
        rows = (
            self.places.values_list("setting")
            .annotate(
                n=Count("pk"),
                investment=Count("headline_investment"),
                budget=Count("headline_budget"),
            )
            .order_by()
        )
        return {setting: (n, inv, bud) for setting, n, inv, bud in rows}

    @cached_property
    def total(self):
        return sum(n for n, _inv, _bud in self.by_setting.values())

    @cached_property
    def by_kind(self):
        totals = {}
        for (kind, _setting), counts in self.by_kind_setting.items():
            known = totals.get(kind, (0, 0, 0))
            totals[kind] = tuple(a + b for a, b in zip(known, counts, strict=True))
        return totals

    @cached_property
    def amounts(self):
        """{column: {("kind", slug) | ("setting", value): sorted values}} of the headline
        investment and operating budget, from one query over the places that have one."""
        found = {"headline_investment": {}, "headline_budget": {}}
        rows = self.places.filter(
            Q(headline_investment__isnull=False) | Q(headline_budget__isnull=False)
        ).values_list(
            # Floats: fetched several times faster than decimals, and exact enough for
            # quartiles shown to the euro.
            "pk",
            "setting",
            "kinds__slug",
            Cast("headline_investment", FloatField()),
            Cast("headline_budget", FloatField()),
        )
        seen = set()
        for pk, setting, kind, investment, budget in rows:
            for column, value in (("headline_investment", investment), ("headline_budget", budget)):
                if value is None:
                    continue
                found[column].setdefault(("kind", kind), []).append(value)
                if pk not in seen:
                    found[column].setdefault(("setting", setting), []).append(value)
            seen.add(pk)
        for groups in found.values():
            for values in groups.values():
                values.sort()
        return found

    # ------------------------------------------------------------------ charts

    def settings(self):
        """The settings present, in their order, then « not stated » if any place lacks one."""
        present = [(value, label) for value, label in Setting.choices if value in self.by_setting]
        if "" in self.by_setting:
            present.append(("", _("Not stated")))
        return present

    def kinds_chart(self):
        settings = self.settings()
        kinds = sorted(
            {kind for kind, _setting in self.by_kind_setting},
            key=lambda k: (k is None, -self.by_kind[k][0], self.kind_names.get(k, "")),
        )
        chart = Chart(
            "types-milieux",
            _("Places by kind and setting"),
            _(
                "How many places of each kind, in each setting. A place of several kinds is "
                "counted under each of them: the kind rows add up to more than the number of "
                "places; the last row counts each place once."
            ),
            [_("Kind of place")] + [label for _value, label in settings] + [_("Total")],
        )
        bars = []
        for kind in kinds:
            label = self.kind_names.get(kind, kind) if kind else _("No kind given")
            row = [Cell(label, label, header=True)]
            values = {}
            for setting, _label in settings:
                n = self.by_kind_setting.get((kind, setting), (0,))[0]
                values[setting] = n
                url = ""
                if n and kind:
                    url = self._kind_setting_url(kind, setting)
                row.append(Cell(n, _count(n), url))
            total = self.by_kind[kind][0]
            row.append(Cell(total, _count(total), self.directory_url("kind", kind) if kind else ""))
            chart.rows.append(row)
            bars.append((label, values))
        all_label = _("All places (each counted once)")
        row = [Cell(all_label, all_label, header=True)]
        for setting, _label in settings:
            n = self.by_setting[setting][0]
            row.append(Cell(n, _count(n), self._setting_url(setting)))
        row.append(Cell(self.total, _count(self.total), self.url({})))
        chart.rows.append(row)
        chart.svg = charts.stacked_bar_chart(
            chart.title,
            _(
                "Horizontal bars, one per kind of place, cut by setting; the table below gives "
                "the numbers."
            ),
            [(value, label) for value, label in settings],
            bars,
        )
        return chart

    def _setting_url(self, setting):
        if not setting:
            return ""
        return self.directory_url("setting", setting)

    def _kind_setting_url(self, kind, setting):
        if not setting or not self.narrowing("kind", kind):
            return ""
        return self.directory_url("setting", setting, {"kind": kind})

    def regions_chart(self):
        rows = (
            self.places.values_list("region__insee_code", "region__name")
            .annotate(n=Count("pk"))
            .order_by()
        )
        found = sorted(rows, key=lambda r: (r[0] is None, -r[2], r[1] or ""))
        chart = Chart(
            "regions",
            _("Places by région"),
            _("How many places in each région (of the place's territory)."),
            [_("Région"), _("Places")],
        )
        bars = []
        for code, name, n in found:
            if code is None:
                chart.notes.append(
                    _("Places with no région (no territory, or one above the régions): %(count)s.")
                    % {"count": _count(n)}
                )
                continue
            chart.rows.append(
                [
                    Cell(name, name, header=True),
                    Cell(n, _count(n), self.directory_url("region", code)),
                ]
            )
            bars.append((name, n))
        chart.svg = charts.bar_chart(
            chart.title,
            _("One horizontal bar per région; the table below gives the numbers."),
            bars,
        )
        return chart

    def years_chart(self):
        rows = dict(self.places.values_list("year_opened").annotate(n=Count("pk")).order_by())
        unknown = rows.pop(None, 0)
        chart = Chart(
            "annees",
            _("Places by opening year"),
            _("How many places opened each year (as the sources date the opening)."),
            [_("Year"), _("Places")],
        )
        for year in sorted(rows):
            n = rows[year]
            chart.rows.append(
                [
                    Cell(year, str(year), header=True),
                    Cell(n, _count(n), self.url({"year_min": str(year), "year_max": str(year)})),
                ]
            )
        if unknown:
            chart.notes.append(
                _("Places with no known opening year, not shown: %(count)s.")
                % {"count": _count(unknown)}
            )
        if rows:
            first, last = min(rows), max(rows)
            chart.svg = charts.column_chart(
                chart.title,
                _(
                    "Vertical bars from %(first)s to %(last)s, one per year; the table below "
                    "gives the numbers."
                )
                % {"first": first, "last": last},
                [(str(year), rows.get(year, 0)) for year in range(first, last + 1)],
            )
        return chart

    def amount_chart(self, slug):
        column, position, parameter, sort = {
            "investissement": ("headline_investment", 1, "investment_min", "-investment"),
            "fonctionnement": ("headline_budget", 2, "budget_min", "-budget"),
        }[slug]
        if slug == "investissement":
            title = _("Investment, by kind and by setting")
            intro = _(
                "The investment each place reports (its headline figure: for a range, the "
                "lower bound), in euros of the year the source gives, not adjusted for "
                "inflation."
            )
        else:
            title = _("Annual operating budget, by kind and by setting")
            intro = _(
                "The annual operating budget each place reports (its headline figure: for a "
                "range, the lower bound), in euros of the year the source gives, not adjusted "
                "for inflation."
            )
        chart = Chart(
            slug,
            title,
            intro,
            [
                _("Group"),
                _("Places"),
                _("With a figure (n)"),
                _("Without a figure"),
                _("Minimum"),
                _("First quartile"),
                _("Median"),
                _("Third quartile"),
                _("Maximum"),
            ],
        )
        too_few = _("too few places")
        # Keep a bound already asked for (it excludes the places without a figure too).
        with_figure = {} if self.data.get(parameter) else {parameter: "0"}
        with_figure["sort"] = sort
        groups = []
        kinds = sorted(
            (kind for kind in self.by_kind if kind),
            key=lambda k: (-self.by_kind[k][position], self.kind_names.get(k, k)),
        )
        entries = [
            (
                ("kind", kind),
                _("Kind: %(name)s") % {"name": self.kind_names.get(kind, kind)},
                self.kind_names.get(kind, kind),
                self.by_kind[kind],
                self.narrowing("kind", kind) and {"kind": kind},
            )
            for kind in kinds
        ] + [
            (
                ("setting", value),
                _("Setting: %(name)s") % {"name": label},
                str(label),
                self.by_setting[value],
                bool(value) and self.narrowing("setting", value) and {"setting": value},
            )
            for value, label in self.settings()
        ]
        for key, label, name, counts, filters in entries:
            if key == ("kind", kinds[0] if kinds else None):
                groups.append((_("By kind"), None, None))
            if key[0] == "setting" and not any(g[0] == _("By setting") for g in groups):
                groups.append((_("By setting"), None, None))
            places, known = counts[0], counts[position]
            values = self.amounts[column].get(key, [])
            stats = quartiles(values) if len(values) >= MIN_FOR_QUARTILES else None
            row = [
                Cell(label, label, header=True),
                Cell(places, _count(places), self.url(filters) if filters else ""),
                Cell(
                    known,
                    _count(known),
                    self.url({**filters, **with_figure}) if filters and known else "",
                ),
                Cell(places - known, _count(places - known)),
            ]
            if stats:
                row += [Cell(round(v), _euros(v)) for v in stats]
            elif values:
                row += [
                    Cell(round(values[0]), _euros(values[0])),
                    Cell(None, too_few),
                    Cell(None, too_few),
                    Cell(None, too_few),
                    Cell(round(values[-1]), _euros(values[-1])),
                ]
            else:
                row += [Cell(None, "—") for _i in range(5)]
            chart.rows.append(row)
            if known:
                short = name if len(name) <= 20 else name[:19] + "…"
                groups.append((f"{short} (n = {known})", values, stats))
        missing = self.total - sum(counts[position] for counts in self.by_setting.values())
        chart.notes.append(
            _(
                "Places selected that give no figure: %(missing)s of %(total)s. No quartile "
                "or median is computed over fewer than %(min)s places (« too few places »); "
                "the chart then shows each value as a dot."
            )
            % {"missing": _count(missing), "total": _count(self.total), "min": MIN_FOR_QUARTILES}
        )
        chart.svg = charts.box_plot(
            chart.title,
            _(
                "Box plots on a logarithmic scale, one per group: the box runs from the first "
                "to the third quartile, the line inside it is the median, the whiskers reach "
                "the smallest and the largest value. The table below gives the numbers."
            ),
            groups,
            _("one place's value (too few places for quartiles)"),
            _("quartiles and median"),
        )
        return chart

    def funders_chart(self):
        fundings = Funding.objects.filter(place__in=self.place_ids).order_by()
        rows = fundings.values_list("organisation__kind").annotate(
            places=Count("place", distinct=True),
            lines=Count("pk"),
            amounts=Count("amount_eur"),
            total=Sum("amount_eur"),
        )
        found = {
            kind: (places, lines, amounts, total) for kind, places, lines, amounts, total in rows
        }
        funded = fundings.values("place").distinct().count()
        chart = Chart(
            "financeurs",
            _("Funding mix, by kind of funder"),
            _(
                "For each kind of funder: how many of the selected places it funds, the "
                "funding lines the sources record, and the sum of the amounts they state "
                "(periods and purposes differ: a sum, not a budget)."
            ),
            [
                _("Kind of funder"),
                _("Places funded"),
                _("Share of the funded places (%)"),
                _("Funding lines"),
                _("Lines with an amount"),
                _("Sum of the amounts stated (€)"),
            ],
        )
        bars = []
        for kind, label in sorted(
            Organisation.Kind.choices, key=lambda c: -found.get(c[0], (0,))[0]
        ):
            if kind not in found:
                continue
            places, lines, amounts, total = found[kind]
            share = round(100 * places / funded) if funded else 0
            chart.rows.append(
                [
                    Cell(str(label), str(label), header=True),
                    Cell(places, _count(places), self.directory_url("funder_kind", kind)),
                    Cell(share, f"{share} %"),
                    Cell(lines, _count(lines)),
                    Cell(amounts, _count(amounts)),
                    Cell(
                        round(total) if total is not None else None,
                        _euros(total) if total is not None else "—",
                    ),
                ]
            )
            bars.append((str(label), places))
        chart.notes.append(
            _("Places selected with no funder recorded: %(without)s of %(total)s.")
            % {"without": _count(self.total - funded), "total": _count(self.total)}
        )
        chart.svg = charts.bar_chart(
            chart.title,
            _(
                "One horizontal bar per kind of funder: the number of places it funds; the table "
                "below gives the numbers."
            ),
            bars,
        )
        return chart

    def lessons_chart(self):
        rows = (
            Lesson.objects.filter(place__in=self.place_ids)
            .values_list("theme", "place__setting")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts = {(theme, setting): n for theme, setting, n in rows}
        settings = [
            (value, label)
            for value, label in self.settings()
            if any(s == value for _t, s in counts)
        ]
        chart = Chart(
            "enseignements",
            _("Themes of the lessons, by setting"),
            _(
                "The lessons the sources draw from one place of the selection, by theme and "
                "by the place's setting. Cross-case lessons (about several places) are not "
                "counted here; the lessons library lists them too."
            ),
            [_("Theme")] + [label for _value, label in settings] + [_("Total")],
        )
        linkable = all(
            name in LESSON_PARAMS or name in ("area", "sort", "page", "per_page")
            for name in self.data
            if self.data.get(name)
        )
        bars = []
        themes = sorted(
            Lesson.Theme.choices,
            key=lambda c: -sum(n for (t, _s), n in counts.items() if t == c[0]),
        )
        for theme, label in themes:
            total = sum(n for (t, _s), n in counts.items() if t == theme)
            if not total:
                continue
            row = [Cell(str(label), str(label), header=True)]
            values = {}
            for setting, _label in settings:
                n = counts.get((theme, setting), 0)
                values[setting] = n
                url = self._lessons_url(theme, setting) if linkable and n and setting else ""
                row.append(Cell(n, _count(n), url))
            row.append(
                Cell(total, _count(total), self._lessons_url(theme, None) if linkable else "")
            )
            chart.rows.append(row)
            bars.append((str(label), values))
        if not linkable:
            chart.notes.append(
                _(
                    "The lessons library does not take all of the filters in use: the numbers "
                    "are not linked."
                )
            )
        chart.svg = charts.stacked_bar_chart(
            chart.title,
            _("Horizontal bars, one per theme, cut by setting; the table below gives the numbers."),
            settings,
            bars,
        )
        return chart

    def _lessons_url(self, theme, setting):
        query = QueryDict(mutable=True)
        for name, target in LESSON_PARAMS.items():
            values = [v for v in self.data.getlist(name) if v]
            if values:
                query.setlist(target, values)
        if self.data.get("area") and not self.data.getlist("setting"):
            query.setlist("setting", [str(s) for s in AREA_SETTINGS.get(self.data["area"], [])])
        if setting:
            query.setlist("setting", [setting])
        query.setlist("theme", [theme])
        return f"{reverse('casestudies:lesson-list')}?{query.urlencode()}"

    CHARTS = {
        "types-milieux": kinds_chart,
        "regions": regions_chart,
        "annees": years_chart,
        "investissement": lambda self: self.amount_chart("investissement"),
        "fonctionnement": lambda self: self.amount_chart("fonctionnement"),
        "financeurs": funders_chart,
        "enseignements": lessons_chart,
    }

    def cache_key(self, name):
        query = hashlib.sha256(self.data.urlencode().encode()).hexdigest()
        return f"statistics:{self.version}:{get_language()}:{name}:{query}"

    @cached_property
    def version(self):
        return data_version()

    def chart(self, slug):
        key = self.cache_key(slug)
        found = cache.get(key)
        if found is None:
            found = self.CHARTS[slug](self)
            cache.set(key, found, CACHE_SECONDS)
        return found

    def cached_total(self):
        key = self.cache_key("total")
        found = cache.get(key)
        if found is None:
            found = self.total
            cache.set(key, found, CACHE_SECONDS)
        return found

    def all_charts(self):
        return [self.chart(slug) for slug in self.CHARTS]


def statistics_page(request):
    from .views import active_filters, invalid_filters

    stats = Statistics(request.GET)
    selection = stats.selection
    total = stats.cached_total()
    charts_list = stats.all_charts() if total else []
    for chart in charts_list:
        chart.csv_url = stats.url({}, reverse("catalogue:statistics-csv", args=[chart.slug]))
    return render(
        request,
        "catalogue/statistics.html",
        {
            "charts": charts_list,
            "total": total,
            "form": selection.filterset.form,
            "active_filters": active_filters(selection.filterset, stats.data),
            "invalid_filters": invalid_filters(selection.filterset, stats.data),
            "directory_url": stats.url({}),
            "min_for_quartiles": MIN_FOR_QUARTILES,
            "hidden_params": [
                (name, value)
                for name in stats.data
                if name not in VISIBLE_FILTERS and name not in ("page", "per_page")
                for value in stats.data.getlist(name)
            ],
        },
    )


# The filters the statistics page offers itself; the others are kept as hidden fields.
VISIBLE_FILTERS = ("kind", "setting", "region", "year_min", "year_max")


def statistics_csv(request, chart):
    if chart not in Statistics.CHARTS:
        raise Http404(_("No such table."))
    stats = Statistics(request.GET)
    if not stats.selection.valid:
        return HttpResponseBadRequest(
            stats.selection.error_text(), content_type="text/plain; charset=utf-8"
        )
    table = stats.chart(chart)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statistiques-{chart}.csv"'
    writer = csv.writer(response)
    for row in table.csv_rows():
        writer.writerow(row)
    return response
