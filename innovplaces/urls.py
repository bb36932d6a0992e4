from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path, re_path

from catalogue import seo

from . import faults, views

# A database error outside a view still gets the 503 page, not a 500 (faults.py).
handler500 = "innovplaces.faults.server_error"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # For load balancers and monitoring: does the site reach its database?
    path("healthz", faults.healthz, name="healthz"),
    # Language-neutral: the API answers French and English fields alike.
    path("api/v1/", include("catalogue.api.urls")),
    path("robots.txt", seo.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": seo.SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": seo.SITEMAPS},
        name="sitemap-section",
    ),
]
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    # The catalogue first: its place page is the page most visitors land on. The two
    # apps' paths never overlap, so their order only changes how soon one is found.
    path("", include("catalogue.urls")),
    path("", include("casestudies.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
# Uploaded files (settings.SERVE_MEDIA decides at request time whether Django answers).
urlpatterns += [re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", views.media)]
