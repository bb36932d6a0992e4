"""Copy the published places of the catalogue at DATABASE_URL into a SQLite file for
Datasette, the peer of bench/compare.sh, and write its metadata.

    DATABASE_URL=postgres://…/innovplaces_bench python bench/datasette_copy.py OUT.db OUT.json

One `places` table, one row per published place: name, summary, setting, région,
département and commune names, kinds and services as JSON arrays of slugs (so that
`kinds__arraycontains=fab-lab` finds a place of any of its kinds), legal form, year opened,
carrier and headline figures. Indexes on what is filtered or sorted (name, setting, région,
département), as a Datasette publisher would add; an FTS5 table on name and summary (the
default `unicode61` tokenizer: accents folded, no stemming). The metadata declares the
facets the directory shows for the same question: kind (array facet), setting and région.
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")

import django  # noqa: E402

django.setup()

from catalogue.models import Place  # noqa: E402

COLUMNS = [
    ("id", "INTEGER PRIMARY KEY"),
    ("slug", "TEXT"),
    ("name", "TEXT"),
    ("summary", "TEXT"),
    ("setting", "TEXT"),
    ("region", "TEXT"),
    ("region_code", "TEXT"),
    ("departement", "TEXT"),
    ("commune", "TEXT"),
    ("kinds", "TEXT"),
    ("services", "TEXT"),
    ("legal_form", "TEXT"),
    ("year_opened", "INTEGER"),
    ("carrier", "TEXT"),
    ("headline_investment", "REAL"),
    ("headline_budget", "REAL"),
    ("headline_staff", "REAL"),
]
DATABASE = "catalogue"  # the file's stem: Datasette's URLs are /catalogue/places…
CHUNK = 5000


def links(through, field, ids):
    """{place id: [slug, ...]} of a many-to-many relation, in slug order."""
    found = defaultdict(list)
    rows = through.objects.filter(place_id__in=ids).values_list("place_id", f"{field}__slug")
    for place_id, slug in rows.order_by(f"{field}__slug"):
        found[place_id].append(slug)
    return found


def rows(places):
    ids = list(places.values_list("pk", flat=True).order_by("pk"))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        kinds = links(Place.kinds.through, "placekind", chunk)
        services = links(Place.services.through, "service", chunk)
        values = (
            Place.objects.filter(pk__in=chunk)
            .order_by("pk")
            .values_list(
                "pk",
                "slug",
                "name",
                "summary",
                "setting",
                "region__name",
                "region__insee_code",
                "departement__name",
                "territory__name",
                "legal_form",
                "year_opened",
                "carrier",
                "headline_investment",
                "headline_budget",
                "headline_staff",
            )
        )
        for pk, slug, name, summary, setting, *rest in values:
            region, code, departement, commune, legal_form, year, carrier, *figures = rest
            yield (
                pk,
                slug,
                name,
                summary,
                setting,
                region,
                code,
                departement,
                commune,
                json.dumps(kinds.get(pk, [])),
                json.dumps(services.get(pk, [])),
                legal_form,
                year,
                carrier,
                *(None if f is None else float(f) for f in figures),
            )


def build(path):
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE places ({', '.join(f'{n} {t}' for n, t in COLUMNS)})")
    marks = ", ".join("?" for _ in COLUMNS)
    db.executemany(f"INSERT INTO places VALUES ({marks})", rows(Place.objects.published()))
    for column in ("name", "setting", "region", "departement", "slug"):
        db.execute(f"CREATE INDEX places_{column} ON places ({column})")
    db.execute(
        'CREATE VIRTUAL TABLE places_fts USING fts5(name, summary, content="places", '
        "content_rowid=id)"
    )
    db.execute("INSERT INTO places_fts (places_fts) VALUES ('rebuild')")
    db.commit()
    db.execute("ANALYZE")
    db.execute("VACUUM")
    count = db.execute("SELECT count(*) FROM places").fetchone()[0]
    db.close()
    return count


def metadata():
    return {
        "title": "innovplaces benchmark copy",
        "databases": {
            DATABASE: {
                "tables": {
                    "places": {
                        "facets": [{"array": "kinds"}, "setting", "region"],
                        "fts_table": "places_fts",
                        "fts_pk": "id",
                        "label_column": "name",
                    }
                }
            }
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database", type=Path, help=f"the SQLite file to write ({DATABASE}.db)")
    parser.add_argument("metadata", type=Path, help="Datasette's metadata file to write")
    args = parser.parse_args()
    if args.database.stem != DATABASE:
        sys.exit(f"name the file {DATABASE}.db: Datasette's URLs use the file's name")
    started = time.perf_counter()
    count = build(args.database)
    args.metadata.write_text(json.dumps(metadata(), indent=2, ensure_ascii=False))
    size = args.database.stat().st_size / 2**20
    elapsed = time.perf_counter() - started
    print(f"SQLite copy: {count} places, {size:.1f} MiB, {elapsed:.1f} s")


if __name__ == "__main__":
    main()
