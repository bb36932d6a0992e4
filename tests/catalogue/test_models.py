from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from casestudies.models import Section
from catalogue.models import Funding, Organisation, Place, Territory


def refuses(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_a_place_has_at_most_one_headline_figure_per_indicator(make_place, make_figure):
    place = make_place()
    make_figure(place, value=100, headline=True)
    refuses(lambda: make_figure(place, value=200, headline=True))
    # A second, non-headline figure for the same indicator is how disagreements are kept.
    make_figure(place, value=200, headline=False)
    assert place.figures.count() == 2


def test_figures_cannot_be_negative_or_an_inverted_range(make_place, make_figure):
    place = make_place()
    refuses(lambda: make_figure(place, value=-1))
    refuses(lambda: make_figure(place, value=500, value_max=Decimal(400)))


def test_funding_amounts_are_non_negative_and_shares_within_0_100(make_place, make_source):
    place = make_place()
    funder = Organisation.objects.create(slug="funder-test", name="Financeur", kind="region")
    source = make_source()

    def funding(**values):
        return Funding.objects.create(
            place=place, organisation=funder, source=source, section="s", **values
        )

    refuses(lambda: funding(amount_eur=Decimal("-5")))
    refuses(lambda: funding(share_pct=Decimal("100.5")))
    refuses(lambda: funding(share_pct=Decimal("-1")))
    assert funding(amount_eur=Decimal("0"), share_pct=Decimal("100")).pk


def test_slugs_are_unique(make_place):
    place = make_place()
    refuses(lambda: Place.objects.create(slug=place.slug, name="Autre"))


def test_section_order_is_unique_within_a_case_study(make_case_study):
    case = make_case_study(sections=1)
    refuses(lambda: Section.objects.create(case_study=case, order=1, heading="Doublon", body="x"))


def test_place_takes_its_departement_and_region_from_its_territory(make_territory, make_place):
    epci = make_territory(
        "CC test", kind=Territory.Kind.EPCI, parent=Territory.objects.get(slug="ille-et-vilaine-35")
    )
    commune = make_territory("Commune test", parent=epci)
    place = make_place(territory=commune)
    assert place.departement.insee_code == "35"
    assert place.region.slug == "bretagne"
    assert [t.name for t in place.territory_chain()] == [
        "Commune test",
        "CC test",
        "Ille-et-Vilaine",
        "Bretagne",
    ]
