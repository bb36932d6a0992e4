import functools
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import truncatewords
from django.utils.html import conditional_escape
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView

from . import seo, shell
from .editing import visible_or_404
from .facets import build_facets, matching_options, ordered_results
from .filters import PlaceFilter, canonical_params, in_use, narrowing
from .models import PUBLIC_STATUSES, Place, Source, Territory
from .place_page import attach_cards, attach_territories, place_for_page, places_by_ids
from .search import highlight, ranked_hits, snippets
from .templatetags import navigation, seo_tags

PAGE_SIZES = (20, 50, 100)
# Words of its summary a directory card shows.
CARD_WORDS = 45
# The places a visitor ticked for comparison (read by the comparison pages too).
COMPARE_SESSION_KEY = "compare"


def published_case_studies():
    """Case studies live in the `casestudies` app, which depends on this one: reach the
    model through the reverse relation instead of importing it."""
    model = Place._meta.get_field("case_studies").related_model
    return model.objects.filter(editorial_status="published").order_by("title")


def territories_below(territory):
    """The ids of ``territory`` and of every territory below it, at any depth (one query
    per level). For a région or a département, use the places' own columns instead."""
    found, level = {territory.pk}, [territory.pk]
    while level:
        level = [
            pk
            for pk in Territory.objects.filter(parent__in=level).values_list("pk", flat=True)
            if pk not in found
        ]
        found.update(level)
    return found


def places_within(territory):
    """Published places in ``territory`` or anywhere below it."""
    places = Place.objects.published()
    if territory.kind == Territory.Kind.REGION:
        return places.filter(region=territory)
    if territory.kind == Territory.Kind.DEPARTEMENT:
        return places.filter(departement=territory)
    return places.filter(territory__in=territories_below(territory))


def count_by_child(territory, places):
    """{child id: number of ``places`` in that child or below it}, for the children of
    ``territory``: each place's territory is walked up (one query per level)."""
    direct = dict(
        places.order_by()
        .values_list("territory_id")
        .annotate(n=Count("pk"))
        .values_list("territory_id", "n")
    )
    parents, unknown = {}, set(direct) - {territory.pk, None}
    while unknown:
        rows = dict(Territory.objects.filter(pk__in=unknown).values_list("pk", "parent_id"))
        parents.update(rows)
        unknown = {p for p in rows.values() if p is not None and p not in parents} - {territory.pk}
    counts = {}
    for territory_id, n in direct.items():
        node, seen = territory_id, set()
        while node is not None and parents.get(node) != territory.pk and node not in seen:
            seen.add(node)
            node = parents.get(node)
        if node is not None and parents.get(node) == territory.pk:
            counts[node] = counts.get(node, 0) + n
    return counts


def page_size(request):
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@functools.lru_cache(maxsize=4096)
def card_words(summary):
    """A summary's first CARD_WORDS words, as a card shows them."""
    return Truncator(summary).words(CARD_WORDS, truncate=" …")


def directory_context(request, base, scoped=False):
    """Filtered, searched, sorted and paginated places with their facets.

    Invalid values (unknown slugs, text in a number field, a negative budget...) are
    reported as form errors and ignored; the valid filters still apply.
    """
    params = canonical_params(request.GET)
    filterset = PlaceFilter(params, queryset=base)
    filterset.is_valid()
    query = filterset.form.cleaned_data.get("q") or ""
    sort = filterset.form.cleaned_data.get("sort") or ""
    # With other filters, the search's sort keys are computed only for the places they
    # leave (Hits.order); without, for all its matches at once.
    ranked = ranked_hits(query, keyed=not (scoped or narrowing(filterset))) if query else None
    if ranked is not None:
        # The query as resolved (typos corrected): the other filters' counts use it too.
        filterset.search_query = ranked.query
    facets, total, without_each, results = build_facets(filterset, base, scoped, hits=ranked)
    if ranked is not None and sort in ("", "relevance"):
        # Ranked by relevance from the search's own scores: no second full-text query.
        # Name matches, then places in a territory the query names, then relevance.
        ordered = ranked.ordered(results)  # stable: ties by id
    else:
        # By a number: the facet index sorts the results it already holds.
        ordered = ordered_results(results, sort)
    if ordered is not None:
        paginator = Paginator(ordered, page_size(request))
        page = paginator.get_page(request.GET.get("page"))
        # The places' own rows; their territories and kinds from memory (attach_cards).
        # With their search passages (for the snippets) when searching, in the same query.
        found = places_by_ids(page.object_list, passages=ranked is not None)
        page.object_list = attach_cards([found[pk] for pk in page.object_list if pk in found])
    else:
        places = filterset.filter_queryset(base)
        paginator = Paginator(places, page_size(request))
        paginator.count = total  # already counted with the facets
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = attach_cards(list(page.object_list))
    terms = ranked.query if ranked is not None else query
    found = snippets(
        page.object_list,
        terms,
        shown={place.pk: place.localized_summary for place in page.object_list},
    )
    for place in page.object_list:
        # Why the place matched: a few words of its own text, the query's words marked.
        place.search_snippet = found.get(place.pk, "")
    results = [
        (
            place,
            highlight(place.name, terms),
            # A card shows the summary's first words (cut before marking, which is cheaper).
            highlight(card_words(place.localized_summary), terms),
        )
        for place in page.object_list
    ]
    context = {
        "filter": filterset,
        "form": filterset.form,
        "facets": facets,
        "page_obj": page,
        "paginator": paginator,
        "results": results,
        "query": query,
        "per_page": page.paginator.per_page,
        "page_sizes": PAGE_SIZES,
        "active_filters": active_filters(filterset, params),
        "invalid_filters": invalid_filters(filterset, params),
        "hidden_facets": set(),
        "selection": request.session.get(COMPARE_SESSION_KEY, []),
        "full_path": request.get_full_path(),  # where each card's compare button returns
    }
    context["filter_count"] = sum(1 for name, *_rest in context["active_filters"] if name != "q")
    shown = facets["funder"].shown
    urls = _with_each(params, "funder", [option.value for option in shown])
    for option, url in zip(shown, urls, strict=True):
        option.url = url
    if not paginator.count:
        context["suggestions"] = removal_suggestions(
            filterset, base, context["active_filters"], without_each
        )
    return context


def describe(value, field):
    """A filter value as a reader sees it ("Fab lab, Coworking", "Bretagne", "2015")."""
    if isinstance(value, models.Model):
        return str(getattr(value, "display_name", value))
    if isinstance(value, (list, tuple, models.QuerySet)):
        return ", ".join(describe(item, field) for item in value)
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        return str(dict(field.choices).get(value, value))
    return str(value)


def without(params, name):
    """The query string of ``params`` without ``name`` (and back to page one)."""
    query = params.copy()
    query.pop(name, None)
    query.pop("page", None)
    return f"?{query.urlencode()}" if query else "?"


def active_filters(filterset, params):
    """(name, label, value, URL without it) for every valid filter in use."""
    return [
        (
            name,
            str(filterset.form.fields[name].label),
            describe(value, filterset.form.fields[name]),
            without(params, name),
        )
        for name, value in filterset.form.cleaned_data.items()
        if name != "sort" and in_use(value)
    ]


def invalid_filters(filterset, params):
    """What the reader asked for and the directory could not use, shown next to the
    results: (label, the values as given, why, URL without it, candidates to pick from)."""
    found = []
    for name, errors in filterset.form.errors.as_data().items():
        field = filterset.form.fields.get(name)
        if field is None:
            continue
        given = ", ".join(value for value in params.getlist(name) if value)
        candidates = []
        reasons = []
        for error in errors:
            candidates.extend(getattr(error, "candidates", ()))
            if error.code not in ("invalid_choice", "invalid_pk_value", "unknown"):
                reasons.extend(error.messages)
        found.append(
            {
                "name": name,
                "label": str(field.label),
                "value": given,
                "reasons": reasons,
                "remove_url": without(params, name),
                "candidates": [
                    (organisation, _with(params, name, organisation.slug))
                    for organisation in candidates
                ],
            }
        )
    return found


def _with(params, name, value):
    query = params.copy()
    query.setlist(name, [value])
    query.pop("page", None)
    return f"?{query.urlencode()}"


def _with_each(params, name, values):
    """`_with` for each of ``values``: when ``name`` is not in use, the rest of the query
    string is encoded once (it comes first, ``name`` last, as `_with` writes it)."""
    if name in params:
        return [_with(params, name, value) for value in values]
    query = params.copy()
    query.pop("page", None)
    rest = query.urlencode()
    rest += "&" if rest else ""
    return [f"?{rest}{urlencode({name: value})}" for value in values]


def removal_suggestions(filterset, base, active, known):
    """For an empty result: how many places each filter, removed alone, would bring back.

    ``known`` holds the counts the facet index gave; only ranges need a query each.
    """
    suggestions = []
    for name, label, text, url in active:
        if name in known:
            count = known[name]
        else:
            count = filterset.filter_queryset(base, exclude=(name,)).count()
        if count:
            suggestions.append((name, label, text, url, count))
    return sorted(suggestions, key=lambda s: -s[4])


def directory_template(request, page_template):
    """The whole page, or only the directory block that the page's script swaps in."""
    if request.headers.get("X-Requested-With") == "fetch":
        return "catalogue/includes/directory.html"
    return page_template


def place_list(request):
    base = Place.objects.published()
    context = directory_context(request, base)
    context["page_title"] = _("Innovation places")
    return render(request, directory_template(request, "catalogue/place_list.html"), context)


def _alternate_links(request):
    return seo_tags.alternate_links({"request": request})


def _language_switch(request):
    return navigation.language_switch({"request": request})


class PlaceDetailView(DetailView):
    def get_object(self, queryset=None):
        # Every status: drafts are previewed by staff, archived places keep their page.
        # Its kinds, services, sources, figures, fundings, lessons, public case studies
        # and when it last changed come in the same query, its territories from memory
        # (catalogue/place_page.py).
        place = place_for_page(self.kwargs["slug"])
        if place is None:
            raise Http404
        return attach_territories(visible_or_404(self.request, place))

    template_name = "catalogue/place_detail.html"
    body_template = "catalogue/place_body.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        place = self.object
        figures = list(place.prefetched("figures"))
        context["headline_figures"] = [f for f in figures if f.headline]
        context["other_figures"] = [f for f in figures if not f.headline]
        lessons_by_kind = {}
        for lesson in place.prefetched("lessons"):
            lessons_by_kind.setdefault(lesson.get_kind_display(), []).append(lesson)
        context["lessons_by_kind"] = lessons_by_kind
        context["similar_places"] = place.similar()
        from . import jinja  # here: it imports the map, which imports these views

        context["body"] = jinja.render(self.body_template, context)
        return context

    def parts(self, context):
        """What the page puts in the layout's blocks, as safe HTML."""
        request, place = self.request, self.object
        return {
            "title": conditional_escape(place.name),
            "description": conditional_escape(truncatewords(place.localized_summary, 30)),
            "alternate_links": shell.record_part(request, "alternate_links", _alternate_links),
            "structured_data": seo.json_ld(seo.place_data(request, place)),
            "language_switch": shell.record_part(request, "language_switch", _language_switch),
            "body": context["body"],
        }

    def render_to_response(self, context, **response_kwargs):
        # The layout drawn once for visitors whose page is anyone's (catalogue/shell.py).
        page = shell.draw(self.request, self.template_name, self.parts(context), context)
        return HttpResponse(page)


def territory_detail(request, slug):
    territory = get_object_or_404(
        Territory.objects.select_related("parent__parent__parent__parent", "population_source"),
        slug=slug,
    )
    places = places_within(territory)
    context = directory_context(request, places, scoped=True)
    context["territory"] = territory
    # The facets of the levels above a territory have one value at most: not offered.
    context["hidden_facets"] = {
        Territory.Kind.REGION: {"region"},
        Territory.Kind.DEPARTEMENT: {"region", "departement"},
    }.get(territory.kind, {"region", "departement"})
    counts = count_by_child(territory, places)
    children = list(territory.children.filter(pk__in=counts).order_by("name"))
    for child in children:
        child.place_count = counts[child.pk]
    context["children"] = children
    context["page_title"] = territory.name
    context["territory_place_count"] = places.count()
    return render(request, directory_template(request, "catalogue/territory_detail.html"), context)


def territory_list(request):
    """Régions, and the départements within each, with how many places each holds."""
    published = Place.objects.published().order_by()
    by_region = dict(
        published.values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
    )
    by_departement = dict(
        published.values_list("departement_id")
        .annotate(n=Count("pk"))
        .values_list("departement_id", "n")
    )
    regions = list(Territory.objects.filter(kind=Territory.Kind.REGION).order_by("name"))
    departements = Territory.objects.filter(
        kind=Territory.Kind.DEPARTEMENT, pk__in=[pk for pk in by_departement if pk]
    ).order_by("name")
    within = {}
    for departement in departements:
        departement.place_count = by_departement[departement.pk]
        within.setdefault(departement.parent_id, []).append(departement)
    for region in regions:
        region.place_count = by_region.get(region.pk, 0)
        region.departements = within.get(region.pk, [])
        # Places in the région but in no single département (a pays across two of them).
        region.elsewhere = region.place_count - sum(d.place_count for d in region.departements)
    return render(
        request,
        "catalogue/territory_list.html",
        {"regions": regions, "place_count": sum(by_region.values())},
    )


def funder_options(request):
    """The funders whose name contains ``terme``, with how many places each would leave
    with the directory's other filters (the query string of the page): what the funder
    autocomplete lists."""
    params = canonical_params(request.GET)
    params.pop("funder", None)
    term = params.pop("terme", [""])[-1][:100]
    filterset = PlaceFilter(params, queryset=Place.objects.published())
    filterset.is_valid()
    facets, _total, _without, _results = build_facets(filterset, Place.objects.published())
    options = matching_options(facets["funder"], term)
    return JsonResponse(
        {"options": [{"value": o.value, "label": o.label, "count": o.count} for o in options]}
    )


def public_sources():
    """Sources a visitor may see: the documents, and any other source (an interview, a
    visit…) once a published place or case study cites it. An interview cited only by a
    draft names people who have not been published yet."""
    return Source.objects.filter(
        Q(kind__in=Source.DOCUMENT_KINDS)
        | Q(places__editorial_status__in=PUBLIC_STATUSES)
        | Q(case_studies__editorial_status__in=PUBLIC_STATUSES)
    ).distinct()


class SourceListView(ListView):
    template_name = "catalogue/source_list.html"

    def get_queryset(self):
        return Source.objects.filter(pk__in=public_sources().values("pk")).annotate(
            place_count=Count(
                "places", filter=Q(places__editorial_status="published"), distinct=True
            ),
            case_count=Count(
                "case_studies", filter=Q(case_studies__editorial_status="published"), distinct=True
            ),
        )


class SourceDetailView(DetailView):
    def get_queryset(self):
        return Source.objects.filter(pk__in=public_sources().values("pk")).prefetch_related(
            Prefetch("places", queryset=Place.objects.published().for_listing()),
            Prefetch("case_studies", queryset=published_case_studies()),
        )

    template_name = "catalogue/source_detail.html"
