from django.db import migrations

# PostgreSQL only (other databases have no covering indexes): the directory's facet counts
# read this narrow index with index-only scans instead of the wide place rows.
COVERING_INDEX = """
    CREATE INDEX IF NOT EXISTS catalogue_place_directory_covering
    ON catalogue_place (editorial_status)
    INCLUDE (id, setting, region_id, departement_id, legal_form, status, year_opened,
             headline_investment, headline_budget, headline_staff)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COVERING_INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS catalogue_place_directory_covering")


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0003_funding_place_index")]

    operations = [migrations.RunPython(create, drop)]
