from django.urls import path

from . import proposals, views

app_name = "catalogue"
urlpatterns = [
    path("lieux/", views.place_list, name="place-list"),
    path("lieux/<slug:slug>/", views.PlaceDetailView.as_view(), name="place-detail"),
    path("territoires/<slug:slug>/", views.territory_detail, name="territory-detail"),
    path("sources/", views.SourceListView.as_view(), name="source-list"),
    path("sources/<slug:slug>/", views.SourceDetailView.as_view(), name="source-detail"),
    path("proposer/", proposals.proposal_create, name="proposal"),
    path("proposer/merci/", proposals.proposal_thanks, name="proposal-thanks"),
]
