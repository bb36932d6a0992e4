"""A backup restores the catalogue exactly: pg_dump, restore into an empty database, and
`export_catalogue` gives the same bytes (docs/deployment.md, "Backup and restore").

PostgreSQL pass only, on a PostgreSQL server of the tests' own (tests/pgcluster.py).
"""

import json
import subprocess
import sys

from .pgcluster import LOADED, ROOT


def test_a_dump_restored_into_an_empty_database_exports_the_same_catalogue(pg_cluster):
    database = pg_cluster.create_database("backup_live", template=LOADED)
    # An editor's change since the corpus was loaded must survive the round trip too.
    pg_cluster.query(
        database,
        "UPDATE catalogue_place SET summary = summary || ' Modifié à la main.' "
        "WHERE id = (SELECT min(id) FROM catalogue_place WHERE editorial_status = 'published') "
        "RETURNING id",
    )
    dump = pg_cluster.directory / "nightly.dump"
    pg_cluster.run(
        "pg_dump", "-Fc", "--no-owner", "-h", "127.0.0.1", "-p", pg_cluster.port, "-U",
        "postgres", "-f", dump, database,
    )  # fmt: skip
    restored = pg_cluster.create_database("backup_restored")
    pg_cluster.run(
        "pg_restore", "--no-owner", "--exit-on-error", "-h", "127.0.0.1", "-p", pg_cluster.port,
        "-U", "postgres", "-d", restored, dump,
    )  # fmt: skip

    live = pg_cluster.manage(database, "export_catalogue").stdout
    copy = pg_cluster.manage(restored, "export_catalogue").stdout
    assert copy == live
    # The export is the catalogue, edit included, not an empty shell.
    catalogue = json.loads(copy)
    assert len(catalogue["places"]) > 20 and len(catalogue["case_studies"]) > 10
    assert "Modifié à la main." in copy
    # Beyond the export (published records only): drafts, history, accounts, every row.
    assert pg_cluster.fingerprint(restored) == pg_cluster.fingerprint(database)
    # Nothing left to migrate: the restored database is the same version of the schema.
    plan = pg_cluster.manage(restored, "migrate", "--plan").stdout
    assert "No planned migration operations." in plan


def backup_check(cluster, database, *args):
    env = cluster.env(database, PYTHON=sys.executable)
    env["PATH"] = f"{cluster.bindir}:{env['PATH']}"
    return subprocess.run(
        [str(ROOT / "bin" / "backup-check"), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_backup_check_finds_a_dump_that_gives_the_catalogue_back(pg_cluster):
    database = pg_cluster.create_database("backup_check", template=LOADED)
    checked = backup_check(pg_cluster, database)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "backup-check: identical exports" in checked.stdout
    # No scratch database left behind.
    names = {row[0] for row in pg_cluster.query(database, "SELECT datname FROM pg_database")}
    assert not [name for name in names if name.startswith("innovplaces_backup_check")]

    # A dump older than the last edit does not give the catalogue back: it says so.
    dump = pg_cluster.directory / "older.dump"
    pg_cluster.run("pg_dump", "-Fc", "-f", dump, pg_cluster.url(database))
    pg_cluster.query(
        database,
        "UPDATE catalogue_place SET name = 'Lieu renommé après la sauvegarde' WHERE id = "
        "(SELECT min(id) FROM catalogue_place WHERE editorial_status = 'published') RETURNING id",
    )
    checked = backup_check(pg_cluster, database, dump)
    assert checked.returncode == 1
    assert "exports a different catalogue" in checked.stdout
    assert "Lieu renommé après la sauvegarde" in checked.stdout
