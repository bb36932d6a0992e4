"""The statistics page: its numbers match the ORM, its CSV files match its tables, and it
follows the honesty rules (n everywhere, no quartile below five places, missing figures
counted)."""

import csv
import io
import statistics
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from catalogue.models import Funding, Lesson, Organisation, Place, PlaceKind
from catalogue.statistics import MIN_FOR_QUARTILES

URL = "/statistiques/"


class TableParser(HTMLParser):
    """The statistics tables of a page: {chart slug: [[cell text, ...], ...]}."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-chart" in attrs:
            self.current = self.tables.setdefault(attrs["data-chart"], [])
        elif self.current is not None and tag == "tr":
            self.row = []
        elif self.row is not None and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables_of(response):
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser.tables


def chart(response, slug):
    return next(c for c in response.context["charts"] if c.slug == slug)


def cell_by_label(chart_, label, column):
    """The cell of the row headed ``label`` under the column ``column``."""
    index = [str(c) for c in chart_.columns].index(column)
    for row in chart_.rows:
        if row[0].value == label:
            return row[index]
    raise AssertionError(f"no row {label!r} in {chart_.slug}")


def html_of(response):
    return response.content.decode().replace("&#x27;", "'")


def plain(text):
    """A number as the table writes it (« 1 234 567 € », « 40 % ») → « 1234567 »."""
    return "".join(ch for ch in text if ch.isdigit() or ch == "-")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", lambda places: places),
        (
            "setting=rural&setting=petite-ville",
            lambda p: p.filter(setting__in=["rural", "petite-ville"]),
        ),
        ("kind=ptce", lambda p: p.filter(kinds__slug="ptce")),
        (
            "area=urbain&year_min=2010",
            lambda p: p.filter(
                setting__in=["ville-moyenne", "periurbain", "metropole"], year_opened__gte=2010
            ),
        ),
    ],
)
def test_counts_match_the_orm(client, corpus, query, expected):
    places = expected(Place.objects.published()).distinct()
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    total = places.count()
    assert total > 0
    assert response.context["total"] == total
    kinds = chart(response, "types-milieux")
    everything = kinds.rows[-1]
    assert everything[-1].value == total
    # Every kind's row: the places of that kind among those selected.
    for kind in PlaceKind.objects.filter(places__in=places).distinct():
        row = cell_by_label(kinds, kind.display_name, "Total")
        assert row.value == places.filter(kinds=kind).count(), kind.slug
    # Every setting's column of the last row: each place once.
    for value in places.values_list("setting", flat=True).distinct():
        label = dict(Place._meta.get_field("setting").choices).get(value, "Non précisé")
        assert (
            cell_by_label(kinds, everything[0].value, str(label)).value
            == places.filter(setting=value).count()
        )
    regions = chart(response, "regions")
    for row in regions.rows:
        assert row[1].value == places.filter(region__name=row[0].value).count()
    years = chart(response, "annees")
    for row in years.rows:
        assert row[1].value == places.filter(year_opened=row[0].value).count()
    assert (
        sum(row[1].value for row in years.rows) == places.filter(year_opened__isnull=False).count()
    )
    funders = chart(response, "financeurs")
    for row in funders.rows:
        kind = next(k for k, label in Organisation.Kind.choices if str(label) == row[0].value)
        assert row[1].value == places.filter(fundings__organisation__kind=kind).distinct().count()
        assert (
            row[3].value
            == Funding.objects.filter(place__in=places, organisation__kind=kind).count()
        )
    lessons = chart(response, "enseignements")
    for row in lessons.rows:
        theme = next(t for t, label in Lesson.Theme.choices if str(label) == row[0].value)
        assert row[-1].value == Lesson.objects.filter(place__in=places, theme=theme).count()
    # The page says how many places each figure covers.
    assert f"les {total} lieux que sélectionnent" in html_of(response)


@pytest.mark.django_db
def test_each_csv_equals_its_table(client, corpus):
    query = "setting=metropole&setting=ville-moyenne"
    response = client.get(f"{URL}?{query}")
    tables = tables_of(response)
    assert set(tables) == {c.slug for c in response.context["charts"]}
    for slug, table in tables.items():
        download = client.get(reverse("catalogue:statistics-csv", args=[slug]) + f"?{query}")
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert rows[0] == table[0], slug  # the same columns
        assert len(rows) == len(table), slug
        for csv_row, html_row in zip(rows[1:], table[1:], strict=True):
            assert csv_row[0] == html_row[0]
            for value, text in zip(csv_row[1:], html_row[1:], strict=True):
                if value == "":
                    assert text in ("—", "trop peu de lieux"), (slug, text)
                else:
                    assert plain(value) == plain(text), (slug, value, text)


@pytest.fixture
def budget_kinds(make_place, make_figure):
    """Six places of one new kind with an investment figure and two without; three of
    another new kind with one."""
    many = PlaceKind.objects.create(slug="essai-nombreux", name="Essai nombreux")
    few = PlaceKind.objects.create(slug="essai-rares", name="Essai rares")
    amounts = [10_000, 20_000, 40_000, 80_000, 160_000, 1_000_000]
    for amount in amounts:
        make_figure(make_place(kinds=("essai-nombreux",)), value=amount)
    for _i in range(2):
        make_place(kinds=("essai-nombreux",))
    for amount in (5_000, 7_000, 9_000):
        make_figure(make_place(kinds=("essai-rares",)), value=amount)
    return many, few, amounts


def test_quartiles_over_five_places_or_more_and_too_few_below(client, budget_kinds):
    many, few, amounts = budget_kinds
    response = client.get(f"{URL}?kind=essai-nombreux&kind=essai-rares")
    investment = chart(response, "investissement")
    group = f"Type : {many.name}"
    assert cell_by_label(investment, group, "Lieux").value == 8
    assert cell_by_label(investment, group, "Avec un chiffre (n)").value == 6
    assert cell_by_label(investment, group, "Sans chiffre").value == 2
    q1, median, q3 = statistics.quantiles(amounts, n=4, method="inclusive")
    assert cell_by_label(investment, group, "Médiane").value == round(median)
    assert cell_by_label(investment, group, "Premier quartile").value == round(q1)
    assert cell_by_label(investment, group, "Troisième quartile").value == round(q3)
    small = f"Type : {few.name}"
    assert cell_by_label(investment, small, "Avec un chiffre (n)").value == 3 < MIN_FOR_QUARTILES
    assert cell_by_label(investment, small, "Médiane").value is None
    assert cell_by_label(investment, small, "Médiane").text == "trop peu de lieux"
    html = response.content.decode()
    assert "trop peu de lieux" in html
    # The places without a figure are counted, and the chart names n.
    assert "Lieux sélectionnés sans aucun chiffre : 2 sur 11." in html
    assert f"{many.name} (n = 6)" in html


def test_the_places_behind_a_number_are_one_click_away(client, budget_kinds):
    many, _few, _amounts = budget_kinds
    response = client.get(f"{URL}?kind=essai-nombreux&kind=essai-rares")
    investment = chart(response, "investissement")
    with_figure = cell_by_label(investment, f"Type : {many.name}", "Avec un chiffre (n)")
    directory = client.get(with_figure.url)
    assert directory.context["paginator"].count == 6
    kinds = chart(response, "types-milieux")
    cell = cell_by_label(kinds, many.name, "Rural")
    assert client.get(cell.url).context["paginator"].count == cell.value == 8
    years = chart(response, "annees")
    assert years.rows == []  # no opening year among them, and the page says so
    assert "Lieux sans année d'ouverture connue, non représentés : 11." in html_of(response)


def test_a_kind_not_asked_for_is_not_linked(client, corpus):
    """A place of several kinds also counts under kinds the filter did not ask for:
    setting the filter to that kind would show other places, so no link."""
    response = client.get(f"{URL}?kind=ptce")
    kinds = chart(response, "types-milieux")
    others = [
        row for row in kinds.rows[:-1] if row[0].value != PlaceKind.objects.get(slug="ptce").name
    ]
    assert others, "some PTCE have a second kind"
    assert all(not cell.url for row in others for cell in row[1:])
    assert all(cell.url for cell in cell_by_label_row(kinds, "ptce")[1:] if cell.value)


def cell_by_label_row(chart_, slug):
    name = PlaceKind.objects.get(slug=slug).name
    return next(row for row in chart_.rows if row[0].value == name)


@pytest.mark.django_db
def test_invalid_filters_are_reported_and_refused_by_the_csv(client, corpus):
    response = client.get(f"{URL}?kind=nimporte&year_min=abc")
    assert response.status_code == 200
    assert "Ces filtres n’ont pas été appliqués" in response.content.decode() or (
        "These filters were not applied" in response.content.decode()
    )
    assert response.context["total"] == Place.objects.published().count()
    download = client.get(reverse("catalogue:statistics-csv", args=["regions"]) + "?kind=nimporte")
    assert download.status_code == 400
    assert "kind" in download.content.decode()
    assert client.get("/statistiques/inconnu.csv").status_code == 404


@pytest.mark.django_db
def test_no_place_selected_says_so(client, corpus):
    response = client.get(f"{URL}?year_min=2100")
    assert response.status_code == 200
    assert response.context["charts"] == []
    download = client.get(
        reverse("catalogue:statistics-csv", args=["types-milieux"]) + "?year_min=2100"
    )
    assert list(csv.reader(io.StringIO(download.content.decode())))[-1][-1] == "0"


def test_query_count_does_not_grow_with_the_places(
    client, corpus, make_place, make_figure, django_assert_max_num_queries
):
    query = f"{URL}?setting=rural&setting=metropole&kind=fab-lab&kind=coworking"
    # 14 queries: filter validation (kinds; kind=coworking is read as the service, so
    # services too), the data version (the numbers are cached for it), the aggregates
    # (settings, kinds × settings, régions, years, amounts, funders, funded places,
    # lessons), kind names, the form's choices (kinds, régions).
    with django_assert_max_num_queries(14) as before:
        client.get(query)
    for i in range(30):
        place = make_place(kinds=("fab-lab", "coworking"), setting="metropole")
        make_figure(place, value=1000 + i)
        make_figure(place, indicator="operating_budget_eur", value=500 + i)
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(query)
    assert response.status_code == 200


def test_english_statistics(client, budget_kinds):
    response = client.get(f"/en{URL}?kind=essai-nombreux")
    html = response.content.decode()
    # Six places: quartiles are given in every group.
    investment = chart(response, "investissement")
    assert [row[0].text for row in investment.rows] == ["Kind: Essai nombreux", "Setting: Rural"]
    assert all(cell.text != "too few places" for row in investment.rows for cell in row)
    assert '<td class="num">60,000 €</td>' in html  # the median, written the English way
    assert "The catalogue in numbers" in html
    assert "Investment, by kind and by setting" in html
    assert 'role="img"' in html and "<title" in html
    assert " style=" not in html


def test_cached_numbers_follow_every_change(
    client, corpus, make_place, django_assert_max_num_queries
):
    first = client.get(URL).context["total"]
    with django_assert_max_num_queries(4):  # the data version, the session, the form's choices
        assert client.get(URL).context["total"] == first
    make_place()
    assert client.get(URL).context["total"] == first + 1
