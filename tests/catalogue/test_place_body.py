"""The place page's body is drawn by Jinja2 (catalogue/jinja.py): it must write what
Django's templates wrote, and its links must be the ones `reverse` gives."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models.signals import post_init, pre_init
from django.template import engines
from django.urls import (
    NoReverseMatch,
    clear_script_prefix,
    resolve,
    reverse,
    set_script_prefix,
)
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from casestudies.models import CaseStudy, ComparisonTable
from catalogue.jinja import in_language
from catalogue.links import Linker, route_url, slug_url, slug_url_in
from catalogue.models import PUBLIC_STATUSES, Figure, Place, Source, Territory
from catalogue.place_page import SKIPPED, place_for_page
from catalogue.seo import page_url, translated_url
from catalogue.templatetags.catalogue_tags import source_ref

VALUES = [
    'Lieu « L\'Atelier » <b>&</b> "cité"',
    mark_safe("<em>déjà sûr</em>"),
    2015,
    1234567,
    Decimal("1234.50"),
    2.5,
    datetime.date(2026, 3, 12),
    timezone.make_aware(datetime.datetime(2026, 7, 1, 22, 30), datetime.UTC),
    None,
    True,
    gettext_lazy("Places"),
    "",
]


def jinja(source):
    return engines["jinja2"].from_string(source)


def django(source):
    return engines["django"].from_string(source)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_written_as_django_writes_it(language, value):
    with translation.override(language):
        assert jinja("<p>{{ value }}</p>").render({"value": value}) == django(
            "<p>{{ value }}</p>"
        ).render({"value": value})


def folded(source):
    """As the place page's body is compiled: its literals translated then (TranslatedLiterals)."""
    return in_language(translation.get_language()).from_string(source)


@pytest.mark.parametrize("compile_", [jinja, folded], ids=["at-render", "at-compile"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_translations_and_the_values_put_into_them_are_written_as_django_writes_them(
    language, compile_
):
    credit = "Photo <b>L'Atelier</b> & Cie"
    with translation.override(language):
        drawn = compile_('{{ _("Image: %(credit)s")|fill(credit=credit) }} · {{ _("Places") }}')
        expected = django(
            "{% load i18n %}{% blocktranslate %}Image: {{ credit }}{% endblocktranslate %}"
            ' · {% translate "Places" %}'
        )
        html = drawn.render({"credit": credit})
        assert html == expected.render({"credit": credit})
    assert "&lt;b&gt;L&#x27;Atelier&lt;/b&gt; &amp; Cie" in html
    assert ("Lieux" if language == "fr" else "Places") in html


def test_literals_translated_when_compiled_follow_the_language_of_each_drawing():
    source = '{% set caption = _("Key figures") %}<b title="{{ caption }}">{{ _("Places") }}</b>'
    for language, expected in [
        ("fr", '<b title="Chiffres clés">Lieux</b>'),
        ("en", '<b title="Key figures">Places</b>'),
        ("fr", '<b title="Chiffres clés">Lieux</b>'),
    ]:
        with translation.override(language):
            assert folded(source).render({}) == expected
    # A call that is not `_` on a literal is left to the drawing's own `_`.
    with translation.override("en"):
        drawn = folded('{{ _(word) }} {{ box._("Places") }}').render(
            {"_": lambda text: text.upper(), "word": "lieu", "box": {"_": lambda text: "—"}}
        )
    assert drawn == "LIEU —"


def test_shared_kinds_and_services_are_counted_in_words():
    drawn = jinja(
        "{{ kinds_in_common(1) }} / {{ kinds_in_common(3) }} / {{ services_in_common(2) }}"
    )
    with translation.override("fr"):
        assert drawn.render({}) == "1 type en commun / 3 types en commun / 2 services en commun"
    with translation.override("en"):
        assert drawn.render({}) == "1 kind in common / 3 kinds in common / 2 services in common"


def test_dates_are_written_in_local_time_and_in_the_language():
    moment = timezone.make_aware(datetime.datetime(2026, 12, 31, 23, 30), datetime.UTC)
    drawn = jinja('{{ moment|date("c") }} · {{ moment|date("DATE_FORMAT") }}')
    with translation.override("fr"):
        # 23:30 UTC is already the next day in Paris.
        assert drawn.render({"moment": moment}) == "2027-01-01T00:30:00+01:00 · 1 janvier 2027"
    with translation.override("en"):
        assert drawn.render({"moment": moment}).endswith("Jan. 1, 2027")


ROUTES = [
    "catalogue:place-detail",
    "catalogue:territory-detail",
    "catalogue:source-detail",
    "casestudies:case-detail",
    "casestudies:table-detail",
]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("viewname", ROUTES)
def test_a_record_link_is_the_one_reverse_gives(viewname, language):
    with translation.override(language):
        for slug in ("fab-lab-crest", "a", "l_atelier-2"):
            assert slug_url(viewname, slug) == reverse(viewname, args=[slug])
        assert route_url("catalogue:place-list") == reverse("catalogue:place-list")
        # In another language than the active one, as `translation.override` gives it.
        for other in ("fr", "en"):
            with translation.override(other):
                expected = reverse(viewname, args=["fab-lab-crest"])
            assert slug_url_in(other, viewname, "fab-lab-crest") == expected
    set_script_prefix("/annuaire/")
    try:
        with translation.override(language):
            assert slug_url(viewname, "fab-lab-crest") == reverse(viewname, args=["fab-lab-crest"])
            assert slug_url(viewname, "fab-lab-crest").startswith("/annuaire/")
            assert route_url("catalogue:place-list").startswith("/annuaire/")
            assert slug_url_in("en", viewname, "a").startswith("/annuaire/en/")
    finally:
        clear_script_prefix()
        set_script_prefix("/")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_template_drawn_in_one_go_links_records_as_their_own_urls_do(corpus, language):
    records = [
        Place.objects.published().first(),
        Territory.objects.filter(kind=Territory.Kind.REGION).first(),
        Source.objects.first(),
        CaseStudy.objects.published().first(),
        ComparisonTable.objects.first(),
    ]
    with translation.override(language):
        linker = Linker()
        for record in records:
            assert (
                linker.link(record)
                == record.get_absolute_url()
                == reverse(record.page_route, args=[record.slug])
            )
        assert linker.url("catalogue:proposal") == reverse("catalogue:proposal")
    # Made in one language, it keeps it: each drawing makes its own.
    other = "en" if language == "fr" else "fr"
    with translation.override(other):
        assert linker.link(records[0]) != records[0].get_absolute_url()
        assert Linker().link(records[0]) == records[0].get_absolute_url()


@pytest.mark.parametrize("slug", ["", "deux mots", "lieu/autre"])
def test_a_slug_no_route_takes_fails_as_reverse_does(slug):
    with pytest.raises(NoReverseMatch):
        slug_url("catalogue:place-detail", slug)


def test_a_page_in_the_other_language_is_the_translated_path(rf, corpus):
    place = Place.objects.published().first()
    path = place.get_absolute_url()
    request = rf.get(path)
    request.resolver_match = resolve(path)
    for code in ("fr", "en"):
        assert page_url(request, code) == translated_url(path, code)
    assert page_url(request, "en") == f"/en{path}"


@pytest.mark.django_db
def test_the_place_page_in_english_links_to_english_pages(client, corpus):
    place = Place.objects.published().filter(region__isnull=False).first()
    path = place.get_absolute_url()
    html = client.get(f"/en{path}").content.decode()
    assert f'href="/en/territoires/{place.region.slug}/"' in html
    assert 'href="/en/lieux/"' in html
    assert f'hreflang="fr" href="http://testserver{path}"' in html
    assert f'<a href="{path}" lang="fr" hreflang="fr">Français</a>' in html


@pytest.mark.django_db
def test_translations_kept_per_language_never_cross_languages(client, corpus):
    """Each literal is translated once per language and kept: pages drawn in turn in both
    languages each keep their own words."""
    path = Place.objects.published().first().get_absolute_url()
    for _turn in range(2):
        french = client.get(path).content.decode()
        english = client.get(f"/en{path}").content.decode()
        assert "Fiche d'identité" in french
        assert "Identity card" not in french
        assert "Identity card" in english
        assert "Fiche d" not in english
        cache.clear()  # draw them again, not from the page cache


def test_the_layout_drawn_once_gives_the_page_the_template_gives(client, corpus):
    """Public place pages join their parts into the layout drawn once (catalogue/shell.py);
    a request that is not public (here: with credentials) has the template draw it all.
    Every published place, in both languages: the same HTML."""
    from catalogue import shell

    shell._kept.clear()
    places = list(Place.objects.published().order_by("slug"))
    assert len(places) > 40
    for language in ("fr", "en"):
        with translation.override(language):
            urls = [place.get_absolute_url() for place in places]
        for place, url in zip(places, urls, strict=True):
            joined = client.get(url)
            drawn = client.get(url, HTTP_AUTHORIZATION="Basic eDp5")
            assert joined.status_code == drawn.status_code == 200
            assert "private" in drawn["Cache-Control"]  # the template's own path
            assert joined.text == drawn.text, url
            assert shell.SEPARATOR not in joined.text
            assert str(escape(place.name)) in joined.text
    # Each language's layout was drawn once, then reused.
    layouts = [key for key in shell._kept if key[0] == "catalogue/place_detail.html"]
    assert sorted(key[3] for key in layouts) == ["en", "fr"]


def _drawn_both_ways(rf, url, **extra):
    """The place page's language switch and alternate links for ``url``, drawn for it
    and by `shell.record_part` (drawn once for a stand-in slug, then filled in)."""
    from catalogue import shell, views

    request = rf.get(url, **extra)
    request.resolver_match = resolve(request.path_info)
    pairs = []
    for name, draw in (
        ("language_switch", views._language_switch),
        ("alternate_links", views._alternate_links),
    ):
        pairs.append((draw(request), shell.record_part(request, name, draw)))
    return pairs


def test_language_links_drawn_once_per_route_are_those_drawn_for_each_page(rf, corpus, settings):
    """Every published place, in both languages, on two hosts: the same HTML, safe, naming
    the place's own URLs."""
    from catalogue import shell
    from catalogue.links import PLACEHOLDER

    settings.ALLOWED_HOSTS = ["testserver", "autre.example"]
    shell._kept.clear()
    places = list(Place.objects.published().order_by("slug"))
    assert len(places) > 40
    for language in ("fr", "en"):
        with translation.override(language):
            for place in places:
                url = place.get_absolute_url()
                for host in ("testserver", "autre.example"):
                    for direct, once in _drawn_both_ways(rf, url, HTTP_HOST=host):
                        assert once == direct, (url, host)
                        assert isinstance(once, SafeString)
                        assert f"//{host}{url}" in once or f'href="{url}"' in once
                        assert PLACEHOLDER not in once
    # Drawn once per part, language and host, then filled in.
    kept = [key for key in shell._kept if key[0] in ("language_switch", "alternate_links")]
    assert len(kept) == 2 * 2 * 2


def test_language_links_keep_the_query_string_of_the_page(rf, corpus):
    from catalogue import shell

    shell._kept.clear()
    url = Place.objects.published().first().get_absolute_url()
    with translation.override("fr"):
        _drawn_both_ways(rf, url)  # kept for the route
        (switch, switch_once), (links, links_once) = _drawn_both_ways(rf, url + "?vue=1")
    assert switch_once == switch and links_once == links
    assert f'href="/en{url}?vue=1"' in switch_once


# The place and its relations read in one statement (catalogue/place_page.py).

RELATIONS = ["kinds", "services", "sources", "figures", "fundings", "lessons", "case_studies"]


def _fields(obj):
    return {
        field.attname: getattr(obj, field.attname)
        for field in type(obj)._meta.concrete_fields
        if field.attname not in SKIPPED
    }


@pytest.mark.django_db
def test_a_place_read_for_its_page_holds_what_the_orm_reads(corpus, django_assert_num_queries):
    place_for_page("fab-lab-crest")  # the vocabularies, read once with the facet index
    for place in Place.objects.published().order_by("pk"):
        with django_assert_num_queries(2):  # the data version (the index's), the place
            found = place_for_page(place.slug)
        for name in RELATIONS:
            expected = {obj.pk: _fields(obj) for obj in getattr(place, name).all()}
            if name == "case_studies":
                expected = {
                    obj.pk: _fields(obj)
                    for obj in place.case_studies.filter(editorial_status__in=PUBLIC_STATUSES)
                }
            with django_assert_num_queries(0):
                listed = found.prefetched(name)
                # What Django's related managers give, from the same rows, made when
                # first asked for.
                managed = list(getattr(found, name).all())
                assert name in found._prefetched_objects_cache
            assert listed == managed and all(a is b for a, b in zip(listed, managed, strict=True))
            assert {obj.pk: _fields(obj) for obj in listed} == expected, (place.slug, name)
            for obj in listed:
                # Loaded rows, as from_db leaves them: a save updates, never inserts.
                assert (obj._state.adding, obj._state.db) == (False, "default")


@pytest.mark.django_db
def test_rows_read_for_the_page_are_announced_as_django_announces_them(corpus):
    place = Place.objects.published().filter(figures__isnull=False).first()
    made, started = [], []

    def after(sender, instance, **kwargs):
        made.append((instance, instance.pk, instance.value))  # its columns are set

    def before(sender, args, kwargs, **extra):
        started.append(args)

    post_init.connect(after, sender=Figure)
    try:
        figures = place_for_page(place.slug).prefetched("figures")
        assert figures and sorted(id(obj) for obj, *_ in made) == sorted(map(id, figures))
        assert all(pk is not None and value is not None for _, pk, value in made)
        # Listened to before it is made, a row is made by Model.__init__, with its values.
        pre_init.connect(before, sender=Figure)
        again = place_for_page(place.slug).prefetched("figures")
        assert len(started) == len(again) and {args[0] for args in started} == {
            figure.pk for figure in again
        }
    finally:
        post_init.disconnect(after, sender=Figure)
        pre_init.disconnect(before, sender=Figure)


@pytest.mark.django_db
def test_a_source_reference_names_its_document_and_section_escaped(corpus):
    figure = Figure.objects.select_related("source").filter(source__kind="memento").first()
    source = figure.source
    figure.section = "p. 12 <b>&</b>"
    title = escape(str(source))
    linked = f'<a href="{source.get_absolute_url()}">{title}</a>'
    for _ in range(2):  # written once, then kept: the same both times
        assert source_ref(figure, " — ", link=True) == f"{linked} — p. 12 &lt;b&gt;&amp;&lt;/b&gt;"
        assert source_ref(figure, ", ") == f"{title}, p. 12 &lt;b&gt;&amp;&lt;/b&gt;"
    # A separator that is safe HTML is written as it is; the same text, not safe, escaped.
    assert source_ref(figure, mark_safe("<br>")) == f"{title}<br>p. 12 &lt;b&gt;&amp;&lt;/b&gt;"
    assert source_ref(figure, "<br>") == f"{title}&lt;br&gt;p. 12 &lt;b&gt;&amp;&lt;/b&gt;"
    assert isinstance(source_ref(figure, ", "), SafeString)
