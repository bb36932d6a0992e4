"""A copy of the loaded corpus kept in the test database, to put it back in a moment.

Browser tests and other transactional tests leave the database empty when they end (their
live server sees what they commit, so nothing can be rolled back). Loading the corpus again
took about 15 seconds each time, most of the browser tests' time. Instead, the rows
`load_corpus` wrote are copied once, within the database, into tables of their own
(``snapshot__`` + table name), which emptying the database does not touch (it empties the
models' tables only), and copied back with one ``INSERT … SELECT`` per table: well under a
second.
"""

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction

PREFIX = "snapshot__"
# Rows that migrations and Django itself make, not the corpus: emptying the database
# makes them again (content types, permissions) or a test does (the editors' groups,
# tests/e2e/conftest.py), with ids of their own.
LEFT_OUT_APPS = {"admin", "auth", "contenttypes", "sessions", "axes"}

_tables = []  # (model, table) copied, in the order they were found


def _models():
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in LEFT_OUT_APPS or meta.proxy or not meta.managed:
            continue
        yield model


def _count(cursor, table):
    cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
    return cursor.fetchone()[0]


def take():
    """Copy every non-empty table of the project's models (run once, right after
    `load_corpus`)."""
    quote = connection.ops.quote_name
    _tables.clear()
    seen = set()
    with connection.cursor() as cursor:
        for model in _models():
            table = model._meta.db_table
            if table in seen or not _count(cursor, table):
                continue
            seen.add(table)
            copy = quote(PREFIX + table)
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"CREATE TABLE {copy} AS SELECT * FROM {quote(table)}")
            _tables.append((model, table))


def restore():
    """Copy the corpus's rows back, then move the id sequences past the copied ids and
    record a change to everything (as a load does: each process rebuilds what it derived
    from the data, whatever the test before did to it). Returns False, having done
    nothing, when a table to restore is not empty: the caller loads the corpus instead."""
    from catalogue import versioning

    if not _tables:
        return False
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if any(_count(cursor, table) for _model, table in _tables):
            return False
        for model, table in _tables:
            columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) "
                f"SELECT {columns} FROM {quote(PREFIX + table)}"
            )
        models = [model for model, _table in _tables]
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        versioning.record(everything=True)
    return True
