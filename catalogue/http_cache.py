"""HTTP caching of the public pages: validators, conditional requests, shared caches.

Every public page is drawn from the catalogue's data, the language, the URL and the code.
For a visitor without a session (no comparison selection, not signed in), nothing else
changes it, so:

- its ``ETag`` is a digest of the data version, the language, the full path (query string
  included), the variant asked for (the directory's script fetches only its results
  block) and the release; ``Last-Modified`` is when the data last changed, or when this
  process started if that is later (a new release restarts the processes);
- a conditional request (``If-None-Match``, ``If-Modified-Since``) is answered 304 from
  these alone, before the view runs (not for the embeddable pages: see NO_VALIDATORS);
- ``Cache-Control: public, max-age=…, stale-while-revalidate=…`` lets the browser and a
  reverse proxy keep the page briefly; ``Vary: Cookie`` keeps a proxy from serving it to a
  visitor who has a session;
- the pages that cost the most to draw (a place, a case study, a table, the lessons) are
  kept whole in Django's cache, keyed by the same data version, so a change to the data
  makes every kept page stale at once, with nothing to purge.

A request with a session cookie (a comparison selection, a signed-in editor who may see
drafts) or a messages cookie is never answered from the cache nor stored in it, and its
response is marked ``private, no-cache``; so is anything but a 200 answer to GET or HEAD,
and any response that sets a cookie (the proposal form's CSRF token). A response whose
view already set ``Cache-Control`` (``never_cache``) is left as it is.
"""

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import translation
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from . import versioning

# When this process started: the earliest a page it draws can date from (its code).
STARTED = int(time.time())

# Never public: the admin, the proposal form, the language view, uploaded files (served
# by the web server in production), the health check.
PRIVATE_PATHS = re.compile(r"^/(?:en/)?(?:admin|proposer|i18n|media|healthz)(?:/|$)")

# Shared, but without validators: the embeddable pages carry their own framing policy,
# which a 304 (drawn without the view) would not repeat.
NO_VALIDATORS = re.compile(r"^/(?:en/)?integrer/")

# Outside the language prefixes: these answer in the browser's language.
NEUTRAL_PATHS = re.compile(r"^/(?:api/|robots\.txt$|sitemap)")

# The pages kept whole in the cache (URL names).
CACHED_PAGES = frozenset(
    {
        "catalogue:place-detail",
        "casestudies:case-detail",
        "casestudies:table-detail",
        "casestudies:lesson-list",
        "casestudies:lesson-themes",
    }
)

# Cookies that make a page the visitor's own.
MESSAGES_COOKIE = "messages"


@dataclass
class Validators:
    digest: str
    etag: str
    last_modified: int  # seconds since the epoch


def release():
    """What identifies the code being run: settings.RELEASE_ID (set it to the commit or
    the version you deploy), else the time this process started."""
    return getattr(settings, "RELEASE_ID", "") or f"started-{STARTED}"


def request_language(request):
    """The language LocaleMiddleware will activate for ``request`` (same rules): from the
    URL prefix, French at the root; outside the translated URLs, from the visitor's
    browser."""
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    i18n_used, prefixed_default = is_language_prefix_patterns_used(urlconf)
    from_path = translation.get_language_from_path(request.path_info)
    if from_path:
        return from_path
    if i18n_used and not prefixed_default and not NEUTRAL_PATHS.match(request.path_info):
        return settings.LANGUAGE_CODE
    return translation.get_language_from_request(request, check_path=i18n_used)


def is_public_request(request):
    """A request whose answer is the same for every visitor: GET or HEAD, no session,
    no pending message, no credentials, not a private path."""
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    # (A cookie being deleted may come back empty once: no session then.)
    if cookies.get(settings.SESSION_COOKIE_NAME) or cookies.get(MESSAGES_COOKIE):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    return not PRIVATE_PATHS.match(request.path_info)


def validators(request):
    """The ETag and Last-Modified of the page ``request`` asks for, without drawing it.
    At most one query (the data version); None when the database cannot say."""
    try:
        token, _seq, changed_at = versioning.current(public=True)
    except DatabaseError:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    language = request_language(request)
    variant = request.headers.get("X-Requested-With", "")
    if request.path_info.startswith("/api/"):
        variant += "|" + request.headers.get("Accept", "")
    parts = [
        release(),
        str(token),
        language,
        variant,
        request.scheme,
        host,
        request.get_full_path(),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    changed = int(changed_at.timestamp()) if changed_at else 0
    return Validators(
        digest=digest,
        etag=f'W/"{digest}"',
        last_modified=max(changed, STARTED),
    )


def not_modified(request, found):
    """A 304 if the visitor's copy is current (If-None-Match, else If-Modified-Since)."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        wanted = found.etag.removeprefix("W/")
        if not any(tag != "*" and tag.removeprefix("W/") == wanted for tag in tags):
            return None
    else:
        since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
        if since is None or found.last_modified > since:
            return None
    response = HttpResponseNotModified()
    add_public_headers(response, found)
    return response


def add_public_headers(response, found, validators=True):
    if validators:
        response.headers["ETag"] = found.etag
        response.headers["Last-Modified"] = http_date(found.last_modified)
    patch_cache_control(
        response,
        public=True,
        max_age=settings.HTTP_CACHE_MAX_AGE,
        stale_while_revalidate=settings.HTTP_CACHE_STALE_WHILE_REVALIDATE,
    )
    # The same URL draws the visitor's selection for a session; the directory's script
    # asks for its results block only; outside the language prefixes, the browser's
    # language chooses.
    patch_vary_headers(response, ("Accept-Language", "Cookie", "X-Requested-With"))


def page_key(found):
    """Where a rendered page is kept: by the same digest as its ETag (data version,
    language, variant, release, host and full path)."""
    return "page:" + found.digest


class HttpCacheMiddleware:
    """Place it before SessionMiddleware: it sees the cookies the other layers set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = validators(request) if is_public_request(request) else None
        request.http_cache = found
        conditional = not NO_VALIDATORS.match(request.path_info)
        response = self.get_response(request)
        if getattr(request, "http_cache_not_modified", False):
            return response
        if found is None or not self.shareable(response):
            if "Cache-Control" not in response:
                patch_cache_control(response, private=True, no_cache=True)
            return response
        if getattr(request, "http_cache_store", False) and request.method == "GET":
            cache.set(
                page_key(found),
                (response.content, response["Content-Type"]),
                settings.PAGE_CACHE_TIMEOUT,
            )
        add_public_headers(response, found, validators=conditional)
        if not conditional:
            return response
        # If-Match, "*" and the like, as Django's ConditionalGetMiddleware would.
        return get_conditional_response(
            request,
            etag=found.etag,
            last_modified=found.last_modified,
            response=response,
        )

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Before the view: a 304 if the visitor's copy is current, else the page kept
        whole in the cache for this data version, if any. (Here rather than in
        ``__call__``: the URL is known to exist, and the other middleware still add
        their headers to the answer, such as the API's CORS headers.)"""
        found = getattr(request, "http_cache", None)
        if found is None:
            return None
        if not NO_VALIDATORS.match(request.path_info):
            answer = not_modified(request, found)
            if answer is not None:
                request.http_cache_not_modified = True
                return answer
        match = request.resolver_match
        if match is None or match.view_name not in CACHED_PAGES:
            return None
        kept = cache.get(page_key(found))
        if kept is None:
            request.http_cache_store = True
            return None
        content, content_type = kept
        return HttpResponse(content, content_type=content_type)

    @staticmethod
    def shareable(response):
        return (
            response.status_code == 200
            and "Cache-Control" not in response
            and not response.cookies
            and not response.has_header("Set-Cookie")
        )
