"""What search engines and other machines read: sitemaps (French pages with their English
alternates), robots.txt, schema.org JSON-LD for place and case-study pages, and the
canonical and hreflang links of every page."""

import functools
import json

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse
from django.urls import get_script_prefix, get_urlconf, reverse, translate_url
from django.utils import translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from .links import slug_url_in
from .models import PUBLIC_STATUSES, Place, Territory

SITE_NAME = "innovplaces"


# ------------------------------------------------------------------ sitemaps


class I18nSitemap(Sitemap):
    """Each page in French (x-default) and English, each naming the other."""

    i18n = True
    alternates = True
    x_default = True
    # 50,000 URLs per file at most; each item gives one URL per language.
    limit = 20000


class PlaceSitemap(I18nSitemap):
    changefreq = "monthly"

    def items(self):
        return (
            Place.objects.filter(editorial_status__in=PUBLIC_STATUSES)
            .only("slug", "updated_at")
            .order_by("pk")
        )

    def lastmod(self, place):
        return place.updated_at


class CaseStudySitemap(I18nSitemap):
    changefreq = "monthly"

    def items(self):
        model = Place._meta.get_field("case_studies").related_model
        return model.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, case):
        return case.updated_at


class TerritorySitemap(I18nSitemap):
    """Régions and départements: the territories with a page worth visiting on its own."""

    changefreq = "weekly"

    def items(self):
        return (
            Territory.objects.filter(kind__in=[Territory.Kind.REGION, Territory.Kind.DEPARTEMENT])
            .only("slug")
            .order_by("pk")
        )


class SectionSitemap(I18nSitemap):
    changefreq = "weekly"
    NAMES = [
        "home",
        "catalogue:place-list",
        "catalogue:territory-list",
        "catalogue:source-list",
        "casestudies:case-list",
        "casestudies:lesson-list",
        "casestudies:table-list",
    ]

    def items(self):
        return self.NAMES

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": SectionSitemap,
    "places": PlaceSitemap,
    "case-studies": CaseStudySitemap,
    "territories": TerritorySitemap,
}


# ------------------------------------------------------------------ robots.txt

# Crawlers may read every page; they are kept off the admin, the downloads and the API
# (machines should use them on purpose, and each download can be large), and the
# session-bound comparison pages.
DISALLOWED = [
    "/admin/",
    "/lieux/export.",
    "/comparer/",
    "/proposer/",
]


@require_safe
def robots_txt(request):
    lines = ["User-agent: *"]
    for path in DISALLOWED:
        lines.append(f"Disallow: {path}")
        lines.append(f"Disallow: /en{path}")
    lines.append("Disallow: /api/")
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


# ------------------------------------------------------------------ JSON-LD

# As django.utils.html.json_script: nothing in the data can close the <script> element.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data):
    """``data`` as a `<script type="application/ld+json">` data block (never executed)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


def absolute(request, path):
    return request.build_absolute_uri(path)


def catalogue_organisation(request):
    return {"@type": "Organization", "name": SITE_NAME, "url": absolute(request, reverse("home"))}


def place_data(request, place):
    """schema.org for a place page: a Place (address, geo) that is also an Organization
    (founding date, website). Reads the place's territory chain and region (fetched by
    the page's queryset)."""
    url = absolute(request, place.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": ["Place", "Organization"],
        "@id": url,
        "name": place.name,
        "url": url,
    }
    if place.aliases:
        data["alternateName"] = list(place.aliases)
    if place.localized_summary:
        data["description"] = place.localized_summary
    address = {"@type": "PostalAddress", "addressCountry": "FR"}
    if place.address:
        address["streetAddress"] = place.address
    commune = place.commune
    if commune is not None:
        address["addressLocality"] = commune.name
    elif place.territory is not None:
        address["addressLocality"] = place.territory.name
    if place.region is not None:
        address["addressRegion"] = place.region.name
    data["address"] = address
    coordinates = place.coordinates()
    if coordinates is not None:
        lat, lon, _precise = coordinates
        data["geo"] = {"@type": "GeoCoordinates", "latitude": float(lat), "longitude": float(lon)}
    if place.website:
        data["sameAs"] = [place.website]
    if place.year_opened:
        data["foundingDate"] = str(place.year_opened)
    return data


def source_data(source):
    """A source document as the schema.org work a text is based on."""
    data = {"@type": "CreativeWork", "name": source.title}
    if source.authors:
        data["author"] = source.authors
    if source.publishers:
        data["publisher"] = source.publishers
    if source.year:
        data["datePublished"] = str(source.year)
    if source.url:
        data["url"] = source.url
    return data


def case_study_data(request, case, places=()):
    """schema.org for a case-study page: an Article written by the catalogue, based on
    its source document, about its places. Reads `source` (fetched by the page)."""
    url = absolute(request, case.get_absolute_url())
    language = translation.get_language() or settings.LANGUAGE_CODE
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": case.localized_title[:110],
        "inLanguage": language,
        "author": catalogue_organisation(request),
        "publisher": catalogue_organisation(request),
        "isBasedOn": source_data(case.source),
        "dateModified": case.updated_at.isoformat(),
    }
    if case.localized_summary:
        data["description"] = case.localized_summary
    if places:
        data["about"] = [
            {
                "@type": "Place",
                "name": place.name,
                "url": absolute(request, place.get_absolute_url()),
            }
            for place in places
        ]
    return data


# ------------------------------------------------------------------ canonical, hreflang


def translated_url(url, code):
    """`translate_url` of ``url`` (a path, a query string may follow) into the language
    ``code``. The path's translation is kept: every page asks it for each language, twice
    (its language links and its alternate links), and it resolves then reverses the path.
    It depends on the URL patterns and on the language active (its URL prefix), both in
    the key; the query string, which it carries over as it is, is not (visitors write it)."""
    path, mark, query = url.partition("?")
    translated = _translated_url(
        path,
        code,
        translation.get_language(),
        get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
    )
    return translated + mark + query


@functools.lru_cache(maxsize=4096)
def _translated_url(path, code, _active, _prefix, _urlconf):
    return translate_url(path, code)


def page_url(request, code, path=None):
    """`translated_url` of the page ``request`` shows (of its ``path``, by default
    ``request.path``) in the language ``code``: without resolving the path again when the
    page is a record's (a place, a territory…: one slug), whose route the request matched."""
    match = getattr(request, "resolver_match", None)
    if match is not None and not match.args and list(match.kwargs) == ["slug"]:
        return slug_url_in(code, match.view_name, match.kwargs["slug"])
    return translated_url(request.path if path is None else path, code)


def alternate_links(request):
    """(canonical URL, [(language, URL), …]) for the page being shown, or None when
    the page has no route (an error page). The query string is dropped, except the page
    number of a list."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    path = request.path
    page = request.GET.get("page", "")
    suffix = f"?page={page}" if page.isdigit() and page != "1" else ""
    alternates = []
    for code, _name in settings.LANGUAGES:
        alternates.append((code, absolute(request, page_url(request, code)) + suffix))
    canonical = absolute(request, path) + suffix
    return canonical, alternates
