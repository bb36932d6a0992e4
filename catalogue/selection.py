"""The places a directory query string selects, for every view that reads one.

The directory (`/lieux/`), the map, the statistics, the exports and the API take the same
query parameters (DESIGN §6): they all ask this module which places those parameters select,
so that the same query string gives the same places everywhere.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from .facets import count_facets, ordered_results
from .filters import PlaceFilter, canonical_params, narrowing
from .models import Place
from .search import ranked_hits


@dataclass
class Selection:
    filterset: PlaceFilter
    places: QuerySet  # published places the valid filters leave, sorted like the directory
    errors: dict  # {parameter: [message, ...]} for the values that were not understood
    base: QuerySet = None  # the places the selection was made among

    @property
    def valid(self):
        return not self.errors

    def listing(self):
        """(places in order, how many) as the directory lists them: the count from the
        facet index, the order of a search by relevance from the search's ranked hits
        (a list of ids), any other order from the database (a queryset)."""
        data = self.filterset.form.cleaned_data
        query, sort = data.get("q") or "", data.get("sort") or ""
        ranked = ranked_hits(query, keyed=not narrowing(self.filterset)) if query else None
        if ranked is not None:
            self.filterset.search_query = ranked.query
        _counts, _without, results = count_facets(self.filterset, self.base, hits=ranked)
        total = results.mask.bit_count()
        if ranked is not None and sort in ("", "relevance"):
            return ranked.order(results.ids()), total
        ordered = ordered_results(results, sort)
        return (self.places if ordered is None else ordered), total

    def error_text(self):
        """The errors as one line a reader (or an API client) understands."""
        return "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}"
            for name, messages in self.errors.items()
        )


def select_places(data, base=None):
    """The places ``data`` (a QueryDict) selects among ``base`` (all published places).

    Invalid values are reported in ``errors`` and ignored, as the directory does; views that
    must refuse them (exports, API) answer 400 with ``error_text()``.
    """
    base = Place.objects.published() if base is None else base
    # Aliases rewritten as the directory rewrites them (``kind=coworking`` is the service).
    filterset = PlaceFilter(canonical_params(data), queryset=base)
    filterset.is_valid()
    return Selection(filterset, filterset.filter_queryset(base), dict(filterset.form.errors), base)
