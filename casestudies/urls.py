from django.urls import path

from . import views

app_name = "casestudies"
urlpatterns = [
    path("etudes-de-cas/", views.case_list, name="case-list"),
    path("etudes-de-cas/sections/<slug:kind>/", views.sections_across, name="sections-across"),
    path("etudes-de-cas/<slug:slug>/", views.case_detail, name="case-detail"),
    path("etudes-de-cas/<slug:slug>/pdf/", views.case_pdf, name="case-pdf"),
    path(
        "etudes-de-cas/<slug:slug>/citation.bib",
        views.case_citation,
        {"fmt": "bib"},
        name="case-bibtex",
    ),
    path(
        "etudes-de-cas/<slug:slug>/citation.json",
        views.case_citation,
        {"fmt": "csl"},
        name="case-csl",
    ),
    path("tableaux/", views.table_list, name="table-list"),
    path("tableaux/<slug:slug>/", views.table_detail, name="table-detail"),
    path("tableaux/<slug:slug>/csv/", views.table_csv, name="table-csv"),
    path("comparer/", views.compare, name="compare"),
    path("comparer/csv/", views.compare_csv, name="compare-csv"),
    path("comparer/selection/", views.compare_selection, name="compare-selection"),
    path("enseignements/", views.lesson_list, name="lesson-list"),
    path("enseignements/themes/", views.lesson_themes, name="lesson-themes"),
]
