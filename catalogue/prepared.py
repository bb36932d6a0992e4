"""Statements PostgreSQL plans once per connection rather than once per request.

The place page reads a place and its seven relations in one statement. PostgreSQL takes
longer to plan it (about 2 ms at 100,000 places: seven subqueries and their joins) than to
run it (under 1 ms). Prepared, it is planned once per connection and later executions
reuse a generic plan. A directory page reads its places by their ids the same way
(catalogue.place_page.places_by_ids).

Django binds parameters on the client by default. Such cursors are never prepared, so
setting `prepare_threshold` in the database OPTIONS (innovplaces/settings.py) changes
nothing for the ORM's queries. It only applies to the server-binding cursors that
`cursor()` returns. `DATABASE_PREPARED_STATEMENTS=0` turns them off: behind a connection
pooler in transaction mode that cannot keep prepared statements (PgBouncer before 1.21,
or without `max_prepared_statements`), `cursor()` then returns an ordinary cursor.
"""

from django.db.backends.utils import CursorDebugWrapper


class _LoggedCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, or a test counting queries) reads each statement back
    from psycopg, which keeps none for a prepared one: logged as composed from the SQL and
    its parameters instead, as Django logs its own statements."""

    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        if use_last_executed_query and not many:
            sql, use_last_executed_query = self.db.ops.compose_sql(sql, params), False
        return super().debug_sql(sql, params, use_last_executed_query, many)


def enabled(connection):
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None
    )


def cursor(connection):
    """A cursor whose statements the server prepares (on PostgreSQL, unless turned off),
    wrapped as Django wraps its own: errors as Django's, queries logged when Django logs
    them (a test's query count sees it)."""
    if not enabled(connection):
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return _LoggedCursor(raw, connection)
    return connection.make_cursor(raw)
