"""A counter bumped whenever catalogue data changes, to key caches of derived results.

Cached facet counts carry the version they were computed for; any write to the data they
depend on bumps it, so a stale count is never served.
"""

from django.core.cache import cache

KEY = "catalogue:data-version"


def data_version():
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, 1, timeout=None)
        version = cache.get(KEY, 1)
    return version


def bump(**kwargs):
    try:
        cache.incr(KEY)
    except ValueError:  # not set yet (or evicted): start a new series
        cache.set(KEY, 2, timeout=None)
