"""The site's own 404, 500 and 503 pages, in its layout, in French and in English."""

import html
import re

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.template.loader import render_to_string
from django.urls import path
from django.utils import translation

from innovplaces import urls as site_urls


def boom(request):
    raise RuntimeError("a failure in a view")


# The site's URLs and one view that fails, under the same language prefixes.
urlpatterns = list(site_urls.urlpatterns) + i18n_patterns(
    path("test-erreur/", boom), prefix_default_language=False
)


def page_text(content):
    content = re.sub(r"<script.*?</script>", " ", content, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.mark.parametrize(
    ("path", "title", "lang"),
    [("/lieux/n-existe-pas/", "Page introuvable", "fr"), ("/en/nowhere/", "Page not found", "en")],
)
def test_a_missing_page_is_the_sites_own_404(client, corpus, path, title, lang):
    response = client.get(path)
    assert response.status_code == 404
    content = response.content.decode()
    assert f'<html lang="{lang}">' in content
    assert f"<h1>{title}</h1>" in content
    # In the site's layout: its stylesheet, its navigation, a way on.
    assert "css/site.css" in content
    assert '<ul class="nav">' in content
    assert 'action="/lieux/"' in content or 'action="/en/lieux/"' in content
    text = page_text(content)
    assert ("Tous les lieux" if lang == "fr" else "All places") in text
    assert "Not Found" not in text


@pytest.mark.urls("tests.test_error_pages")
@pytest.mark.parametrize(
    ("path", "title", "lang"),
    [
        ("/test-erreur/", "Une erreur s’est produite de notre côté", "fr"),
        ("/en/test-erreur/", "Something went wrong on our side", "en"),
    ],
)
def test_a_server_error_is_the_sites_own_500(client, db, settings, path, title, lang):
    assert not settings.DEBUG
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 500
    content = response.content.decode()
    assert f'<html lang="{lang}">' in content
    assert f"<h1>{title}</h1>" in content
    assert "css/site.css" in content and '<ul class="nav">' in content
    # Nothing that needs the request: no language switch, no current section.
    assert "lang-switch" not in content and "aria-current" not in content
    assert "a failure in a view" not in content  # no detail of the error


@pytest.mark.parametrize(
    ("lang", "title"),
    [("fr", "Le site est en maintenance"), ("en", "The site is under maintenance")],
)
def test_the_maintenance_page_needs_no_request(lang, title):
    with translation.override(lang):
        content = render_to_string("503.html")
    assert f'<html lang="{lang}">' in content
    assert f"<h1>{title}</h1>" in content
    assert "css/site.css" in content and '<ul class="nav">' in content
    assert "503" in page_text(content)
