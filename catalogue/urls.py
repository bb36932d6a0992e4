from django.urls import path

from . import embed, exports, glossary, maps, proposals, statistics, views

app_name = "catalogue"
urlpatterns = [
    # First: the page most visitors land on (from a search engine), found in fewer tries.
    # No other route of this list takes a slug ending in "/" (their names have a dot).
    path("lieux/<slug:slug>/", views.PlaceDetailView.as_view(), name="place-detail"),
    path("lieux/", views.place_list, name="place-list"),
    path("lieux/financeurs.json", views.funder_options, name="funder-options"),
    path("lieux/export.csv", exports.export, {"fmt": "csv"}, name="export-csv"),
    path("lieux/export.json", exports.export, {"fmt": "json"}, name="export-json"),
    path("lieux/export.geojson", exports.export, {"fmt": "geojson"}, name="export-geojson"),
    path("carte/", maps.place_map, name="map"),
    path("carte/lieux.json", maps.map_data, name="map-data"),
    path("carte/densite/", maps.density_map, name="map-density"),
    path("integrer/", embed.embed, name="embed"),
    path("integrer/lieux/", embed.embed_list, name="embed-list"),
    path("integrer/carte/", embed.embed_map, name="embed-map"),
    path("territoires/", views.territory_list, name="territory-list"),
    path("territoires/<slug:slug>/", views.territory_detail, name="territory-detail"),
    path("sources/", views.SourceListView.as_view(), name="source-list"),
    path("sources/<slug:slug>/", views.SourceDetailView.as_view(), name="source-detail"),
    path("proposer/", proposals.proposal_create, name="proposal"),
    path("proposer/merci/", proposals.proposal_thanks, name="proposal-thanks"),
    path("statistiques/", statistics.statistics_page, name="statistics"),
    path("statistiques/<slug:chart>.csv", statistics.statistics_csv, name="statistics-csv"),
    path("glossaire/", glossary.glossary_page, name="glossary"),
    path("a-propos/", glossary.about_page, name="about"),
]
