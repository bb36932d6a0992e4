"""Security headers and the admin login throttle (docs/deployment.md, "Security").

- `CSPMiddleware` is django-csp's, the header of the settings' policy built once.
- `PermissionsPolicyMiddleware` sends the `Permissions-Policy` header of the
  PERMISSIONS_POLICY setting: the site uses none of these browser features, so none is
  allowed, to the site or to anything it frames.
- `content_security_policy()` builds django-csp's CONTENT_SECURITY_POLICY from the map's
  tile server and the uploaded images' host.
- `client_ip()` and `lockout_response()` are django-axes' hooks: the address a login
  attempt comes from (the same one the API throttle counts), and the page shown once an
  account is locked out at that address.
"""

import functools
from urllib.parse import urlsplit

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


def permissions_policy_header(policy):
    """`{"camera": [], "fullscreen": ["self"]}` → `camera=(), fullscreen=(self)`."""
    return ", ".join(
        "{}=({})".format(feature, " ".join(allowed)) for feature, allowed in policy.items()
    )


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


# What a view's decorators (csp.decorators) set on its response to change the policy.
VIEW_POLICIES = tuple(
    name + suffix
    for name in ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")
    for suffix in ("", "_ro")
)


@functools.cache
def settings_policies():
    """[(header, policy, excluded URL prefixes)]: the Content-Security-Policy header and
    its report-only twin as django-csp builds them from the settings alone."""
    found = []
    for header, name, report_only in [
        (HEADER, "CONTENT_SECURITY_POLICY", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
    ]:
        prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
        found.append((header, build_policy(report_only=report_only), tuple(prefixes)))
    return found


@receiver(setting_changed, dispatch_uid="security-csp-setting-changed")
def _forget_policies(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        settings_policies.cache_clear()


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, which builds the same header from the settings for every
    response (50-60 µs): here built once, and built by django-csp as before for a
    response whose view changes the policy (its decorators) or for a page that used a
    nonce."""

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in VIEW_POLICIES)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for header, policy, excluded in settings_policies():
            if policy and header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        # As django-csp: a nonce asked for once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def origin(url):
    """The origin (`https://tile.example.org`) of a URL or URL template, for a CSP source
    list; a `{s}` subdomain placeholder becomes a wildcard. None for an empty or relative
    URL."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "*"))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def media_origins(environ):
    """Where uploaded images are served from when they live on object storage."""
    if not environ.get("MEDIA_BUCKET"):
        return []
    if environ.get("MEDIA_CUSTOM_DOMAIN"):
        return [f"https://{environ['MEDIA_CUSTOM_DOMAIN']}"]
    if environ.get("MEDIA_ENDPOINT_URL"):
        return [origin(environ["MEDIA_ENDPOINT_URL"])]
    bucket = environ["MEDIA_BUCKET"]
    region = environ.get("MEDIA_REGION")
    hosts = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        hosts.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return hosts


def content_security_policy(tile_url, environ):
    """The directives of every page: nothing inline, nothing from elsewhere but the map's
    tiles and the uploaded images, and no framing (the embeddable pages lift that)."""
    self_ = "'self'"
    images = [self_, "data:"]
    images += [host for host in [origin(tile_url), *media_origins(environ)] if host]
    directives = {
        "default-src": [self_],
        "script-src": [self_],
        "style-src": [self_],
        "img-src": images,
        "connect-src": [self_],
        "font-src": [self_],
        "object-src": ["'none'"],
        "base-uri": [self_],
        "form-action": [self_],
        "frame-ancestors": ["'none'"],
    }
    if environ.get("CSP_REPORT_URI"):
        directives["report-uri"] = [environ["CSP_REPORT_URI"]]
    return {"DIRECTIVES": directives}


def client_ip(request):
    """The address a request comes from: the connection's own, or, behind NUM_PROXIES
    proxies, the one the outermost of them wrote into X-Forwarded-For (the client may have
    forged everything before it). The API throttle counts the same address."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies > 0 and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(num_proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request, original_response=None, credentials=None):
    """The admin's page for a login refused after too many failures (HTTP 429)."""
    # Imported here: the settings import this module.
    from django.contrib import admin
    from django.shortcuts import render
    from django.utils import timezone

    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        **admin.site.each_context(request),
        "title": None,
        "cool_off_minutes": int(cool_off.total_seconds() // 60),
        "retry_at": timezone.localtime() + cool_off,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    response = render(request, "admin/lockout.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
