"""A token that changes whenever catalogue data changes, to key what is derived from it,
and the log of what each change touched.

It lives in the database, so every web process sees the same one. A new token is random
rather than the next number: if the transaction that changed it rolls back, the token
goes back to one that only ever described committed data, and a database restored from a
backup never reuses a token that described other data.

Beside the token, ``seq`` numbers the changes and `DataChange` records, for each number,
which places it touched. Both are written in the writer's transaction, after the update of
the version row: that row stays locked until the transaction ends, so changes are numbered
in the order they commit, and a reader that sees number n sees every change up to n.
"""

import secrets
import threading

from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from . import version_feed
from .version_feed import feed

# Changes kept in the log; a process further behind rebuilds its derived data.
KEPT_CHANGES = 10_000


class _RequestState(threading.local):
    within_request = False
    version = None


_request = _RequestState()


@receiver(request_started, dispatch_uid="data-version-request-started")
def _request_started(**kwargs):
    _request.within_request, _request.version = True, None


@receiver(request_finished, dispatch_uid="data-version-request-finished")
def _request_finished(**kwargs):
    _request.within_request, _request.version = False, None


def current(public=False):
    """(token, seq, changed_at) of the committed data, in one query; read once per
    request (the cache validators, the page cache and the facet index all ask). For a
    ``public`` request (one whose answer is the same for every visitor), the version the
    process's listening thread last read, when it can be trusted (catalogue.version_feed),
    without a query."""
    if _request.within_request and _request.version is not None:
        return _request.version
    if public and _request.within_request:
        row = feed.current(connection)
        if row is not None:
            _request.version = row
            return row
    sql, params, compiler, converters = _statement(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        row = (0, 0, None)
    elif converters:
        [row] = compiler.apply_converters([row], converters)
        row = tuple(row)
    if _request.within_request:
        _request.version = row
    return row


_statements = {}


def _statement(connection):
    """The SQL reading the version row, compiled once per process (every page asks for it,
    and compiling it cost as much again as running it), with its converters."""
    from .models import DataVersion

    found = _statements.get(connection.alias)
    if found is None:
        queryset = (
            DataVersion.objects.using(connection.alias)
            .values_list("token", "seq", "changed_at")
            .order_by("pk")[:1]
        )
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        found = _statements[connection.alias] = (sql, params, compiler, converters)
    return found


def version_sql(connection):
    """The SQL that reads the version row, for a connection of the listening thread."""
    sql, params, _compiler, _converters = _statement(connection)
    return sql % tuple(params) if params else sql


def data_version():
    return current()[0]


def data_changed_at():
    """When the catalogue's data last changed (an aware datetime), or None."""
    return current()[2]


# Beyond this many places whose search documents changed at once, the change is logged
# as touching any place's (kept search hits are then searched again in full).
SEARCH_CHANGES_LISTED = 1000


def record(place_ids=(), everything=False, search=False):
    """Record a change in the current transaction: the places whose rows it touched,
    ``everything`` when what it touched is shared by many (a vocabulary, a territory)
    or unknown (a bulk load); ``search`` when search documents were rebuilt (those of
    ``place_ids``; of any place when none is given). Without
    any, the data changed but no place's facets did (a figure, a lesson): the token
    moves, the index stays."""
    from .models import DataChange, DataVersion

    token = secrets.randbits(62)
    now = timezone.now()
    with transaction.atomic():
        if not DataVersion.objects.filter(pk=1).update(
            token=token, seq=F("seq") + 1, changed_at=now
        ):
            DataVersion.objects.update_or_create(
                pk=1, defaults={"token": token, "seq": 1, "changed_at": now}
            )
        seq = DataVersion.objects.values_list("seq", flat=True).get(pk=1)
        place_ids = sorted({pk for pk in place_ids if pk is not None})
        if everything:
            rows = [DataChange(seq=seq, token=token, scope=DataChange.Scope.ALL)]
        elif search:
            # The places whose search documents changed (a process keeping a search's hits
            # checks only those again), or one row without a place: any may have.
            changed = place_ids if len(place_ids) <= SEARCH_CHANGES_LISTED else [None]
            rows = [
                DataChange(seq=seq, token=token, scope=DataChange.Scope.SEARCH, place_id=pk)
                for pk in changed or [None]
            ]
        elif place_ids:
            rows = [
                DataChange(seq=seq, token=token, scope=DataChange.Scope.PLACES, place_id=pk)
                for pk in place_ids
            ]
        else:
            rows = [DataChange(seq=seq, token=token, scope=DataChange.Scope.NONE)]
        DataChange.objects.bulk_create(rows)
        _request.version = None  # this request reads the new version from now on
        if connection.vendor == "postgresql":
            # Sent to every process's listening thread when the change commits.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [version_feed.CHANNEL, str(seq)])
        transaction.on_commit(feed.changed_here)
        if seq % 100 == 0:
            DataChange.objects.filter(seq__lte=seq - KEPT_CHANGES).delete()
    return seq


def bump(**kwargs):
    """A change whose extent is not known: everything derived is rebuilt."""
    return record(everything=True)


def changes_since(seq, token):
    """{seq: [(scope, place_id), ...]} of the changes after ``seq``, or None when the log
    does not continue from (``seq``, ``token``): change ``seq`` was pruned, or rolled back
    and its number given to another change."""
    from .models import DataChange

    found = {}
    rows = (
        DataChange.objects.filter(seq__gte=seq)
        .order_by("seq")
        .values_list("seq", "token", "scope", "place_id")
    )
    for number, change_token, scope, place_id in rows:
        if number == seq:
            if change_token != token:
                return None
            found[seq] = []
        else:
            found.setdefault(number, []).append((scope, place_id))
    if seq and seq not in found:
        return None
    found.pop(seq, None)
    return found
