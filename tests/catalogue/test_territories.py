"""Territory pages and the territory index: the places and numbers a reader sees."""

import html
import re

import pytest
from django.urls import reverse

from catalogue.models import Place, Territory


def territory_url(slug, lang=None):
    return reverse("catalogue:territory-detail", args=[slug])


def page_text(response):
    content = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


def listed(response):
    return [place.slug for place, _name, _summary in response.context["results"]]


@pytest.mark.parametrize(
    ("slug", "expected", "count_text"),
    [
        # A région: one place in Morbihan, two in a pays spanning Ille-et-Vilaine and
        # Loire-Atlantique that hangs directly under the région.
        (
            "bretagne",
            {"ateliers-jean-moulin", "eoliennes-en-pays-de-vilaine", "les-articulteurs"},
            "3 lieux sur ce territoire",
        ),
        # A département: a commune's fab lab and two places in Romans-sur-Isère.
        (
            "drome-26",
            {"fab-lab-crest", "pole-sud-archer", "shop-in-romans"},
            "3 lieux sur ce territoire",
        ),
        # An EPCI: one place attached to it, one in a commune within it.
        (
            "cc-creuse-grand-sud",
            {"lainamac", "villa-chateaufavier"},
            "2 lieux sur ce territoire",
        ),
        # A commune.
        (
            "paris",
            {"fontaine-o-livres", "numa-paris", "paris-mix"},
            "3 lieux sur ce territoire",
        ),
        # A commune with its neighbourhood (a quartier below it).
        ("nantes", {"samoa-quartier-creation"}, "1 lieu sur ce territoire"),
    ],
)
def test_a_territory_lists_the_places_within_it(client, corpus, slug, expected, count_text):
    response = client.get(territory_url(slug))
    assert response.status_code == 200
    assert set(listed(response)) == expected
    text = page_text(response)
    assert count_text in text
    assert response.context["paginator"].count == len(expected)
    for place in Place.objects.filter(slug__in=expected):
        assert place.name in text


def test_a_territory_page_filters_its_places_and_counts_facets_within_it(client, corpus):
    response = client.get(territory_url("drome-26"), {"kind": "fab-lab"})
    assert listed(response) == ["fab-lab-crest"]
    assert "1 lieu sur ce territoire" not in page_text(response)  # the territory holds 3
    assert "3 lieux sur ce territoire" in page_text(response)
    # Facet counts are those of the territory's places, not of the whole directory.
    kinds = {o.value: o.count for o in response.context["facets"]["kind"].options}
    everywhere = client.get(reverse("catalogue:place-list")).context["facets"]["kind"]
    assert kinds["fab-lab"] == 1
    assert {o.value: o.count for o in everywhere.options}["fab-lab"] > 1
    unfiltered = client.get(territory_url("drome-26")).context["facets"]["kind"]
    assert sum(o.count for o in unfiltered.options if o.value == "pepiniere") <= 3
    # A région page does not offer the région filter; a département page neither the
    # département one.
    content = response.content.decode()
    assert 'name="region"' not in content and 'name="departement"' not in content


def test_a_region_lists_its_departements_with_the_places_below_them(client, corpus):
    response = client.get(territory_url("nouvelle-aquitaine"))
    children = {child.slug: child.place_count for child in response.context["children"]}
    expected_creuse = Place.objects.published().filter(departement__slug="creuse-23").count()
    assert children["creuse-23"] == expected_creuse == 3
    assert all(count > 0 for count in children.values())
    assert sum(children.values()) == response.context["territory_place_count"]


def test_an_empty_territory_says_so(client, corpus):
    response = client.get(territory_url("mayotte"))
    assert response.status_code == 200
    text = page_text(response)
    assert "0 lieu sur ce territoire" in text
    assert "Aucun lieu documenté ici pour l’instant" in text or "Aucun lieu" in text


def test_an_unknown_territory_is_a_404(client, corpus):
    assert client.get(territory_url("atlantide")).status_code == 404


def test_territory_page_queries_do_not_grow_with_its_places(
    client, corpus, make_place, django_assert_max_num_queries
):
    client.get(territory_url("drome-26"))  # builds the facet index
    with django_assert_max_num_queries(12):
        client.get(territory_url("drome-26"))
    for _ in range(15):
        make_place()  # in a new commune of the Drôme
    client.get(territory_url("drome-26"))
    with django_assert_max_num_queries(12):
        response = client.get(territory_url("drome-26"), {"per_page": 50})
    assert response.context["paginator"].count == 18


def test_the_territory_index_lists_regions_and_departements_with_counts(client, corpus):
    url = reverse("catalogue:territory-list")
    assert url == "/territoires/"
    response = client.get(url)
    assert response.status_code == 200
    regions = {region.slug: region for region in response.context["regions"]}
    assert len(regions) == Territory.objects.filter(kind="region").count()
    assert regions["bretagne"].place_count == 3
    # Two of them are in a pays spanning two départements: said, not lost.
    assert regions["bretagne"].elsewhere == 2
    assert [d.slug for d in regions["bretagne"].departements] == ["morbihan-56"]
    assert regions["mayotte"].place_count == 0
    assert sum(r.place_count for r in regions.values()) == Place.objects.published().count()
    text = page_text(response)
    assert "Bretagne 3 lieux" in text
    assert "Drôme (26) 3 lieux" in text
    assert "Mayotte 0 lieu" in text
    assert f'href="{territory_url("drome-26")}"' in response.content.decode()
    names = [r.name for r in response.context["regions"]]
    assert names == sorted(names)


def test_the_territory_index_is_in_english_too(client, corpus):
    response = client.get("/en/territoires/")
    assert response.status_code == 200
    assert "Bretagne 3 places" in page_text(response)


def test_the_territory_index_query_count(client, corpus, django_assert_max_num_queries):
    # (one of them: the data version, for the page's ETag, catalogue/http_cache.py)
    with django_assert_max_num_queries(5):
        client.get(reverse("catalogue:territory-list"))
