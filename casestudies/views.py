from django.db.models import Prefetch
from django.views.generic import DetailView, ListView

from catalogue.models import Figure, Lesson, Place

from .models import CaseStudy, ComparisonCell, ComparisonTable, Section
from .tables import build_grid


class CaseStudyListView(ListView):
    queryset = CaseStudy.objects.published().for_listing().order_by("source__slug", "kind", "title")
    template_name = "casestudies/casestudy_list.html"


class CaseStudyDetailView(DetailView):
    queryset = (
        CaseStudy.objects.published()
        .select_related("source")
        .prefetch_related(
            Prefetch("sections", queryset=Section.objects.order_by("order")),
            Prefetch(
                "places",
                queryset=Place.objects.published()
                .select_related(
                    "territory__parent__parent__parent__parent", "departement", "region"
                )
                .prefetch_related(
                    "kinds",
                    Prefetch(
                        "figures",
                        queryset=Figure.objects.filter(headline=True).select_related(
                            "indicator", "source"
                        ),
                    ),
                ),
            ),
            Prefetch(
                "lessons",
                queryset=Lesson.objects.select_related("place").prefetch_related("cited_places"),
            ),
        )
    )
    template_name = "casestudies/casestudy_detail.html"


class ComparisonTableListView(ListView):
    queryset = ComparisonTable.objects.select_related("source")
    template_name = "casestudies/comparisontable_list.html"


class ComparisonTableDetailView(DetailView):
    queryset = ComparisonTable.objects.select_related("source").prefetch_related(
        "columns__indicator",
        Prefetch("rows__place", queryset=Place.objects.select_related("territory")),
        Prefetch("cells", queryset=ComparisonCell.objects.all()),
    )
    template_name = "casestudies/comparisontable_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["grid"] = build_grid(self.object)
        return context
