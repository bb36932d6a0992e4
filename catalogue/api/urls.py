from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = True
router.register("places", views.PlaceViewSet, basename="place")
router.register("territories", views.TerritoryViewSet, basename="territory")
router.register("case-studies", views.CaseStudyViewSet, basename="case-study")
router.register("lessons", views.LessonViewSet, basename="lesson")
router.register("sources", views.SourceViewSet, basename="source")
router.register("tables", views.TableViewSet, basename="table")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/docs.html"),
        name="docs",
    ),
    path("", include(router.urls)),
]
