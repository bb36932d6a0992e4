"""Security headers and the admin login throttle (docs/deployment.md, "Security").

- `PermissionsPolicyMiddleware` sends the `Permissions-Policy` header of the
  PERMISSIONS_POLICY setting: the site uses none of these browser features, so none is
  allowed, to the site or to anything it frames.
- `content_security_policy()` builds django-csp's CONTENT_SECURITY_POLICY from the map's
  tile server and the uploaded images' host.
- `client_ip()` and `lockout_response()` are django-axes' hooks: the address a login
  attempt comes from (the same one the API throttle counts), and the page shown once an
  account is locked out at that address.
"""

from urllib.parse import urlsplit

from django.conf import settings


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
