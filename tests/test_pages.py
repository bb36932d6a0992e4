"""Every public page answers, escapes what editors type, and costs a fixed number of queries."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from casestudies.models import CaseStudy, ComparisonTable
from catalogue.models import Figure, Funding, Place, Source, Territory


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_every_page_of_the_corpus_answers(client, corpus):
    urls = [
        reverse("home"),
        reverse("catalogue:place-list"),
        reverse("casestudies:case-list"),
        reverse("casestudies:table-list"),
        reverse("catalogue:source-list"),
    ]
    urls += [p.get_absolute_url() for p in Place.objects.published()]
    urls += [c.get_absolute_url() for c in CaseStudy.objects.published()]
    urls += [t.get_absolute_url() for t in ComparisonTable.objects.all()]
    urls += [s.get_absolute_url() for s in Source.objects.all()]
    urls += [t.get_absolute_url() for t in Territory.objects.exclude(places=None)]
    for url in urls:
        assert client.get(url).status_code == 200, url
        assert client.get("/en" + url).status_code == 200, url


def test_unknown_slugs_give_404(client, corpus):
    for name in (
        "catalogue:place-detail",
        "catalogue:territory-detail",
        "catalogue:source-detail",
        "casestudies:case-detail",
        "casestudies:table-detail",
    ):
        assert client.get(reverse(name, args=["nexiste-pas"])).status_code == 404


def test_drafts_are_not_public(client, make_place):
    place = make_place(editorial_status=Place.EditorialStatus.DRAFT)
    assert client.get(place.get_absolute_url()).status_code == 404


def test_place_text_is_escaped(client, make_place, make_lesson):
    place = make_place(name="<script>alert(1)</script>Lieu", summary="<b>gras</b>")
    make_lesson(place, text="<img src=x onerror=alert(2)>")
    html = client.get(place.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Lieu" in html
    assert "<img src=x" not in html and "&lt;b&gt;gras" in html


def test_section_markdown_is_rendered_but_scripts_and_handlers_are_removed(client, make_case_study):
    case = make_case_study(sections=1)
    section = case.sections.get()
    section.body = (
        "Un **texte** important.\n\n<script>alert('x')</script>"
        '<a href="javascript:alert(1)" onclick="steal()">lien</a>'
        '<p onmouseover="evil()">survol</p>'
    )
    section.save()
    html = client.get(case.get_absolute_url()).content.decode()
    assert "<strong>texte</strong>" in html
    assert "alert('x')" not in html
    assert "javascript:" not in html and "onclick" not in html and "onmouseover" not in html
    assert "survol" in html


def test_place_page_shows_headline_and_conflicting_figures_with_sources(
    client, make_place, make_figure, make_source
):
    place = make_place()
    memo = make_source(short_title="Mémento test")
    make_figure(
        place, value=27000000, headline=True, source=memo, section="Monographie", label="coût total"
    )
    make_figure(
        place,
        value=2700000,
        headline=False,
        source=memo,
        section="Tableau investissement",
        label="montant du tableau",
    )
    html = client.get(place.get_absolute_url()).content.decode()
    assert "27" in html and "Monographie" in html and "Tableau investissement" in html
    assert "Mémento test" in html
    assert "dernière vérification" in html.lower() or "vérifié" in html.lower()


# Query counts: a page's cost must not grow with the data it shows.


def test_place_detail_query_count_is_fixed(client, corpus, make_place, make_figure, make_lesson):
    place = make_place(services=("coworking", "formation"))
    for indicator in ("investment_eur", "staff", "surface_m2"):
        make_figure(place, indicator=indicator)
    client.get(place.get_absolute_url())  # the facet index, built once per data change
    # Drawn, not taken from the page cache (catalogue/http_cache.py): the data version
    # (the page's ETag and the facet index); the place's row with, as JSON, its kinds,
    # services, sources, figures, fundings, lessons, case studies and last change
    # (catalogue/place_page.py). Its territory chain and its similar places come from
    # memory (the facet index and what is kept with it).
    cache.clear()
    assert count_queries(client, place.get_absolute_url()) == 2
    for _ in range(5):
        make_lesson(place)
        make_figure(place, headline=False)
        make_place(kinds=("fab-lab",), services=("coworking",))
    client.get(place.get_absolute_url())
    cache.clear()
    assert count_queries(client, place.get_absolute_url()) == 2
    # Every corpus place, whatever it shares with others.
    for other in Place.objects.published():
        cache.clear()
        assert count_queries(client, other.get_absolute_url()) == 2, other.slug


def test_a_renamed_territory_shows_at_once_on_the_pages_of_its_places(client, corpus):
    # The place page reads territories from memory (catalogue.place_page): a change to
    # one must not leave the old name there.
    place = Place.objects.select_related("territory", "region").get(slug="fab-lab-crest")
    url = place.get_absolute_url()
    html = client.get(url).content.decode()
    assert escape(place.territory.name) in html and escape(place.region.name) in html
    place.territory.name = "Crest-sur-Drôme"
    place.territory.save()
    place.region.name = "Rhône-Alpes-Auvergne"
    place.region.save()
    html = client.get(url).content.decode()
    assert "Crest-sur-Drôme" in html and "Rhône-Alpes-Auvergne" in html


def test_renamed_vocabulary_entries_show_at_once_on_the_pages_of_their_places(client, corpus):
    # The place page names its kinds, services, sources, indicators and funders from
    # memory (catalogue.place_page.PAGE_VOCABULARIES): a change to one must show at once.
    funding = (
        Funding.objects.select_related("place", "organisation", "source")
        .filter(place__editorial_status="published", place__figures__isnull=False)
        .filter(place__services__isnull=False)
        .first()
    )
    place = funding.place
    figure = place.figures.select_related("indicator").first()
    renamed = [
        (place.kinds.first(), "name", "Genre renommé"),
        (place.services.first(), "name", "Service renommé"),
        (funding.organisation, "name", "Financeur renommé"),
        (figure.indicator, "name", "Indicateur renommé"),
        (funding.source, "short_title", "Document renommé"),
    ]
    url = place.get_absolute_url()
    html = client.get(url).content.decode()
    for entry, field, name in renamed:
        assert escape(str(getattr(entry, field))) in html, entry
        assert name not in html
    for entry, field, name in renamed:
        setattr(entry, field, name)
        entry.save()
        assert name in client.get(url).content.decode(), entry


def test_an_entry_added_since_memory_was_read_comes_from_the_database(
    client, make_place, make_figure
):
    # A page may be drawn for a data version older than the rows it reads (a change this
    # process has not heard of yet): a source memory does not hold is read, not dropped.
    place = make_place()
    figure = make_figure(place)
    url = place.get_absolute_url()
    client.get(url)
    # Saved without signals: the data version, and so what memory holds, stays as it was.
    [new] = Source.objects.bulk_create([Source(slug="arrive-depuis", title="Arrivé depuis")])
    Figure.objects.filter(pk=figure.pk).update(source=new)
    cache.clear()
    html = client.get(url).content.decode()
    assert "Arrivé depuis" in html and new.get_absolute_url() in html


def test_similar_places_share_kinds_and_setting(client, corpus):
    response = client.get(reverse("catalogue:place-detail", args=["fab-lab-crest"]))
    similar = response.context["similar_places"]
    assert 3 <= len(similar) <= 5
    assert all(s.shared_kinds for s in similar)
    assert "fab-lab-crest" not in [s.slug for s in similar]


def test_similar_places_show_their_current_name_address_and_setting(client, corpus):
    # Similar places are read from the facet index, not the database: an edit to one
    # must show at once.
    url = reverse("catalogue:place-detail", args=["fab-lab-crest"])
    other = client.get(url).context["similar_places"][0]
    place = Place.objects.get(pk=other.pk)
    assert (other.slug, other.name, other.setting) == (place.slug, place.name, place.setting)
    place.name, place.slug = "Atelier renommé", "atelier-renomme"
    place.setting = "urbain-dense" if place.setting != "urbain-dense" else "rural"
    place.save()  # (recorded as a change to this place: catalogue/signals.py)
    response = client.get(url)
    html = response.content.decode()
    shown = {o.pk: o for o in response.context["similar_places"]}
    assert place.pk in shown
    again = shown[place.pk]
    assert (again.slug, again.name, again.setting) == (
        "atelier-renomme",
        "Atelier renommé",
        place.setting,
    )
    assert '<a href="/lieux/atelier-renomme/">Atelier renommé</a>' in html
    assert other.name not in html


def test_case_study_query_count_is_fixed(client, corpus):
    for case in CaseStudy.objects.published():
        # case study + source, sections, places, lessons (with their place), related case
        # studies; when there are places: their kinds and headline figures; when there are
        # lessons: the places they cite; which places the case is about: case studies with
        # their places and, when there are places, their rows; the data version (for the
        # page's ETag, catalogue/http_cache.py)
        expected = 5 + 3 * case.places.exists() + case.lessons.exists() + 1 + 1
        assert count_queries(client, case.get_absolute_url()) == expected, case.slug


def test_comparison_table_query_count_is_fixed(client, corpus):
    tables = ComparisonTable.objects.all()
    assert tables
    for table in tables:
        # table + source, columns, rows, places with their kinds, services, fundings and
        # headline figures, cells; the indicators of indicator columns; the sections of
        # section columns; the data version (for the page's ETag)
        has_indicators = table.columns.filter(kind="indicator").exists()
        has_sections = table.columns.filter(kind="section").exists()
        expected = 10 + has_indicators + has_sections
        assert count_queries(client, table.get_absolute_url()) == expected


@pytest.mark.parametrize(
    "name", ["home", "catalogue:source-list", "casestudies:case-list", "casestudies:table-list"]
)
def test_index_pages_query_counts_do_not_grow(client, corpus, make_place, make_case_study, name):
    url = reverse(name)
    # (Each asked once first: the home page's counts come from the facet index, which the
    # first request after a change brings up to date, with its own queries.)
    client.get(url)
    before = count_queries(client, url)
    for _ in range(5):
        make_case_study(places=[make_place()])
    client.get(url)
    assert count_queries(client, url) == before


def home_counts(client, url="/"):
    response = client.get(url)
    kinds = [(k.slug, k.display_name, k.place_count) for k in response.context["kinds"]]
    return response, kinds, response.context["settings"], response.context["place_count"]


def test_the_home_page_counts_the_published_places_as_the_database_does(client, corpus, make_place):
    from django.db.models import Count, Q

    from catalogue.models import PlaceKind

    def expected_kinds():
        published = Q(places__editorial_status=Place.EditorialStatus.PUBLISHED)
        return [
            (kind.slug, kind.name, kind.n)
            for kind in PlaceKind.objects.annotate(n=Count("places", filter=published))
            .filter(n__gt=0)
            .order_by("-n", "name")
        ]

    response, kinds, settings, count = home_counts(client)
    assert count == Place.objects.published().count()
    assert kinds == expected_kinds() and len(kinds) > 3
    assert {v: n for v, _label, n in settings} == {
        setting: Place.objects.published().filter(setting=setting).count()
        for setting in {p.setting for p in Place.objects.published() if p.setting}
    }
    html = response.content.decode()
    slug, name, n = kinds[0]
    assert f'?kind={slug}">{escape(name)}</a> <span class="count">{n}</span>' in html
    # A new published fab lab is counted at once; a draft is not.
    make_place(name="Atelier compté", kinds=("fab-lab",), setting="rural")
    make_place(name="Atelier en brouillon", kinds=("fab-lab",), editorial_status="draft")
    _response, kinds, settings, after = home_counts(client)
    assert after == count + 1 and kinds == expected_kinds()
    # In English, the kinds' English names.
    _response, english, _settings, _count = home_counts(client, "/en/")
    assert ("tiers-lieu", "Third place") in [(slug, name) for slug, name, _n in english]


def test_the_home_page_counts_nothing_in_the_database(client, corpus):
    # Its counts come from the facet index: the data version, the case studies' count,
    # the latest case studies and their places are its only queries.
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert len(queries) == 4, [q["sql"][:80] for q in queries]
    assert not any("catalogue_place_kinds" in q["sql"] for q in queries)
