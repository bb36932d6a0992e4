from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("casestudies.urls")),
    path("", include("catalogue.urls")),
    prefix_default_language=False,
)
# Uploaded files (settings.SERVE_MEDIA decides at request time whether Django answers).
urlpatterns += [re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", views.media)]
