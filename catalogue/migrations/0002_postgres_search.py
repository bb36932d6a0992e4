from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# PostgreSQL only: the extensions and the index do nothing on other databases.
GIN_INDEX = (
    "CREATE INDEX IF NOT EXISTS catalogue_placesearch_vector_gin "
    "ON catalogue_placesearch USING gin (vector)"
)


def create_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN_INDEX)


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS catalogue_placesearch_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunPython(create_gin_index, drop_gin_index),
    ]
