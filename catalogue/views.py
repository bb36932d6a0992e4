from django.db.models import Count, Prefetch, Q
from django.views.generic import DetailView, ListView

from .models import Place, Source, Territory


def published_case_studies():
    """Case studies live in the `casestudies` app, which depends on this one: reach the
    model through the reverse relation instead of importing it."""
    model = Place._meta.get_field("case_studies").related_model
    return model.objects.filter(editorial_status="published").order_by("title")


def places_within(territory):
    """Places in ``territory`` or anywhere below it (up to four levels: quartier → région)."""
    return Place.objects.published().filter(
        Q(territory=territory)
        | Q(territory__parent=territory)
        | Q(territory__parent__parent=territory)
        | Q(departement=territory)
        | Q(region=territory)
    )


class PlaceListView(ListView):
    queryset = Place.objects.published().for_listing()
    paginate_by = 20
    template_name = "catalogue/place_list.html"


class PlaceDetailView(DetailView):
    def get_queryset(self):
        return Place.objects.published().for_detail().prefetch_related(
            Prefetch("case_studies", queryset=published_case_studies())
        )
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
        return context


class TerritoryDetailView(DetailView):
    queryset = Territory.objects.select_related("parent__parent__parent__parent")
    template_name = "catalogue/territory_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["places"] = places_within(self.object).for_listing().distinct()
        context["children"] = self.object.children.annotate(
            place_count=Count("places", filter=Q(places__editorial_status="published"))
        )
        return context


class SourceListView(ListView):
    queryset = Source.objects.annotate(
        place_count=Count(
            "places", filter=Q(places__editorial_status="published"), distinct=True
        ),
        case_count=Count(
            "case_studies", filter=Q(case_studies__editorial_status="published"), distinct=True
        ),
    )
    template_name = "catalogue/source_list.html"


class SourceDetailView(DetailView):
    def get_queryset(self):
        return Source.objects.prefetch_related(
            Prefetch("places", queryset=Place.objects.published().for_listing()),
            Prefetch("case_studies", queryset=published_case_studies()),
        )
    template_name = "catalogue/source_detail.html"
