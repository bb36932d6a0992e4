from django import forms
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView

from .editing import visible_or_404, with_last_modified
from .facets import build_facets
from .filters import PlaceFilter
from .models import PUBLIC_STATUSES, Place, Source, Territory
from .search import highlight, ranked_hits

PAGE_SIZES = (20, 50, 100)
# The places a visitor ticked for comparison (read by the comparison pages too).
COMPARE_SESSION_KEY = "compare"


def published_case_studies():
    """Case studies live in the `casestudies` app, which depends on this one: reach the
    model through the reverse relation instead of importing it."""
    model = Place._meta.get_field("case_studies").related_model
    return model.objects.filter(editorial_status="published").order_by("title")


def public_case_studies():
    """Published and archived case studies: what a place page links to."""
    model = Place._meta.get_field("case_studies").related_model
    return model.objects.public().order_by("title")


def places_within(territory):
    """Places in ``territory`` or anywhere below it (up to four levels: quartier → région)."""
    return Place.objects.published().filter(
        Q(territory=territory)
        | Q(territory__parent=territory)
        | Q(territory__parent__parent=territory)
        | Q(departement=territory)
        | Q(region=territory)
    )


def page_size(request):
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def directory_context(request, base, scoped=False):
    """Filtered, searched, sorted and paginated places with their facets.

    Invalid values (unknown slugs, text in a number field, a negative budget...) are
    reported as form errors and ignored; the valid filters still apply.
    """
    filterset = PlaceFilter(request.GET, queryset=base)
    filterset.is_valid()
    query = filterset.form.cleaned_data.get("q") or ""
    sort = filterset.form.cleaned_data.get("sort") or ""
    ranked = ranked_hits(query) if query else None
    facets, total, without_each, results = build_facets(
        filterset, base, scoped, hits=list(ranked) if ranked is not None else None
    )
    if ranked is not None and sort in ("", "relevance"):
        # Ranked by relevance from the search's own scores: no second full-text query.
        ordered = sorted(results.ids(), key=lambda pk: -ranked[pk])  # stable: ties by id
        paginator = Paginator(ordered, page_size(request))
        page = paginator.get_page(request.GET.get("page"))
        found = {p.pk: p for p in Place.objects.for_listing().filter(pk__in=page.object_list)}
        page.object_list = [found[pk] for pk in page.object_list if pk in found]
    else:
        places = filterset.filter_queryset(base)
        paginator = Paginator(places.for_listing(), page_size(request))
        paginator.count = total  # already counted with the facets
        page = paginator.get_page(request.GET.get("page"))
    results = [
        (place, highlight(place.name, query), highlight(place.localized_summary, query))
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
        "active_filters": active_filters(filterset),
        "selection": request.session.get(COMPARE_SESSION_KEY, []),
    }
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


def active_filters(filterset):
    """(name, label, value) for every valid filter in use."""
    return [
        (name, str(filterset.form.fields[name].label), describe(value, filterset.form.fields[name]))
        for name, value in filterset.form.cleaned_data.items()
        if name != "sort"
        and value not in (None, "")
        and not (isinstance(value, (list, tuple, models.QuerySet)) and not len(value))
    ]


def removal_suggestions(filterset, base, active, known):
    """For an empty result: how many places each filter, removed alone, would bring back.

    ``known`` holds the counts the facet index gave; only ranges need a query each.
    """
    suggestions = []
    for name, label, text in active:
        if name in known:
            count = known[name]
        else:
            count = filterset.filter_queryset(base, exclude=(name,)).count()
        if count:
            suggestions.append((name, label, text, count))
    return sorted(suggestions, key=lambda s: -s[3])


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


class PlaceDetailView(DetailView):
    def get_queryset(self):
        # Every status: drafts are previewed by staff, archived places keep their page.
        return with_last_modified(
            Place.objects.for_detail().prefetch_related(
                Prefetch("case_studies", queryset=public_case_studies())
            )
        )

    def get_object(self, queryset=None):
        return visible_or_404(self.request, super().get_object(queryset))

    template_name = "catalogue/place_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        place = self.object
        figures = list(place.figures.all())
        context["headline_figures"] = [f for f in figures if f.headline]
        context["other_figures"] = [f for f in figures if not f.headline]
        lessons_by_kind = {}
        for lesson in place.lessons.all():
            lessons_by_kind.setdefault(lesson.get_kind_display(), []).append(lesson)
        context["lessons_by_kind"] = lessons_by_kind
        context["similar_places"] = place.similar()
        return context


def territory_detail(request, slug):
    territory = get_object_or_404(
        Territory.objects.select_related("parent__parent__parent__parent", "population_source"),
        slug=slug,
    )
    context = directory_context(request, places_within(territory), scoped=True)
    context["territory"] = territory
    context["children"] = territory.children.annotate(
        place_count=Count("places", filter=Q(places__editorial_status="published"))
    ).filter(place_count__gt=0)
    return render(request, directory_template(request, "catalogue/territory_detail.html"), context)


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
