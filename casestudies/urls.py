from django.urls import path

from . import views

app_name = "casestudies"
urlpatterns = [
    path("etudes-de-cas/", views.CaseStudyListView.as_view(), name="case-list"),
    path("etudes-de-cas/<slug:slug>/", views.CaseStudyDetailView.as_view(), name="case-detail"),
    path("tableaux/", views.ComparisonTableListView.as_view(), name="table-list"),
    path("tableaux/<slug:slug>/", views.ComparisonTableDetailView.as_view(), name="table-detail"),
]
