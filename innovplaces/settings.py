"""Settings for innovplaces, read from environment variables.

A fresh checkout runs with no variable set: SQLite file, DEBUG off, localhost only.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from innovplaces import security

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-local-only-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django_filters",
    "simple_history",
    "import_export",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below) and the admin login throttle.
    "csp",
    "axes",
    "catalogue",
    "casestudies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Security headers (innovplaces/security.py): first, so that every response has them.
    "innovplaces.security.CSPMiddleware",
    "innovplaces.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag, Last-Modified, 304s, Cache-Control and kept pages for visitors without a session
    # (catalogue/http_cache.py). Before SessionMiddleware: it sees every cookie set.
    "catalogue.http_cache.HttpCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware: answers the API's and the downloads' CORS preflights.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change kept in the history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Database unreachable: the styled 503 page instead of a 500 (innovplaces/faults.py).
    "innovplaces.faults.DatabaseUnavailableMiddleware",
    # Last: turns a login refused by the throttle into the lockout page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "innovplaces.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
    # The body of the place page (catalogue/jinja.py): compiled to Python, it draws in a
    # fraction of the time Django's template language takes.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "catalogue.jinja.environment"},
    },
]

WSGI_APPLICATION = "innovplaces.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A kept connection is checked before each request reuses it: after a database
        # restart the site reconnects by itself instead of failing once on a dead socket.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short interactive queries: compiling them just in time costs more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Database down: give up connecting after this many seconds (libpq's minimum is 2; a
    # stopped server refuses at once), so that pages answer 503 quickly (innovplaces/faults.py).
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "2"))
    )
    # The few statements that cost more to plan than to run are prepared on first use
    # (catalogue/prepared.py); the ORM's own queries never are. 0 turns them off, for a
    # pooler in transaction mode that cannot keep prepared statements.
    if os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") != "0":
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
# On PostgreSQL, a thread of each web process LISTENs for new data versions, so that
# public pages need not ask for it (catalogue/version_feed.py). 0 turns it off, for a
# pooler in transaction mode, which cannot LISTEN.
DATA_VERSION_LISTENER = os.environ.get("DATA_VERSION_LISTENER", "1") != "0"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# On PostgreSQL, each process keeps the places of the search words found in at least this
# many places as bit sets, matched without a query (catalogue/postings.py); 0: never.
SEARCH_POSTINGS_MIN_PLACES = int(os.environ.get("SEARCH_POSTINGS_MIN_PLACES", "20000"))

# Facet counts are cached per filter state. Several web processes should share one cache:
# set REDIS_URL (and install the `redis` package); otherwise each process keeps its own.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# HTTP caching of public pages (catalogue/http_cache.py, docs/deployment.md "Caching"):
# seconds a browser or reverse proxy may keep a page, then serve it stale while it asks
# again; seconds a rendered place, case study, table or lesson page stays in CACHES (a
# change to the data makes it stale at once anyway). RELEASE_ID names the deployed code
# (a commit, a version) in the pages' ETags; unset, each process's start time does.
HTTP_CACHE_MAX_AGE = int(os.environ.get("HTTP_CACHE_MAX_AGE", "60"))
HTTP_CACHE_STALE_WHILE_REVALIDATE = int(os.environ.get("HTTP_CACHE_STALE_WHILE_REVALIDATE", "300"))
PAGE_CACHE_TIMEOUT = int(os.environ.get("PAGE_CACHE_TIMEOUT", "86400"))
RELEASE_ID = os.environ.get("RELEASE_ID", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
# Django itself serves uploaded files only for a local run (bin/serve turns DEBUG on) or
# when told to; in production the web server or object storage does (docs/deployment.md).
SERVE_MEDIA = env_flag("SERVE_MEDIA") or DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# Lets `runserver` serve static files without collectstatic when DEBUG is off locally.
WHITENOISE_USE_FINDERS = env_flag("WHITENOISE_USE_FINDERS", default=True)
# Uploaded images on object storage (S3 or compatible) rather than under MEDIA_ROOT: set
# MEDIA_BUCKET and install django-storages[s3]; boto3 reads the credentials from the usual
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables. See docs/deployment.md.
if os.environ.get("MEDIA_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_BUCKET"],
            "endpoint_url": os.environ.get("MEDIA_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_REGION") or None,
            "custom_domain": os.environ.get("MEDIA_CUSTOM_DOMAIN") or None,
            "location": os.environ.get("MEDIA_PREFIX", "media"),
            # Public, unsigned URLs (pages can be cached), and an upload never replaces a
            # stored file: a place's history may still point to it.
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }

# Proposals from the public: days their senders' contact details are kept after receipt,
# and after a reviewer has dealt with them (then `purge_proposals` erases them).
PROPOSAL_CONTACT_DAYS = int(os.environ.get("PROPOSAL_CONTACT_DAYS", "90"))
PROPOSAL_REVIEWED_CONTACT_DAYS = int(os.environ.get("PROPOSAL_REVIEWED_CONTACT_DAYS", "14"))

# The map's background tiles (/carte/, docs/map.md): a URL template with {z}/{x}/{y}, and
# the credit the tile provider requires (HTML). An empty URL draws no tiles: the map then
# shows the outline of régions and départements shipped in static/geo/.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get(
    "MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)

# Where load_territories keeps the downloaded national datasets (outside the repository);
# empty: $XDG_CACHE_HOME/innovplaces/territories (~/.cache/…).
TERRITORIES_CACHE_DIR = os.environ.get("TERRITORIES_CACHE_DIR", "")

# The read-only API (/api/v1/, docs/api.md). Every client is anonymous; each address may
# make API_THROTTLE_RATE requests (and EXPORT_THROTTLE_RATE downloads) per period, counted
# in the cache (shared between processes only with REDIS_URL).
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "catalogue.api.pagination.StrictNegotiation",
    "DEFAULT_PAGINATION_CLASS": "catalogue.api.pagination.PageNumberPagination",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_RATE", "120/minute"),
        "export": os.environ.get("EXPORT_THROTTLE_RATE", "60/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Clients are told apart by their address: the connection's own, or, behind a proxy,
    # the one that proxy adds to X-Forwarded-For (a client could forge the rest).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "1" if env_flag("BEHIND_TLS_PROXY") else "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "innovplaces API",
    "DESCRIPTION": (
        "Read-only API of the innovplaces catalogue of French innovation places. "
        "The data is published under the Licence Ouverte / Open Licence 2.0 (Etalab): "
        "reuse it freely, crediting « innovplaces » and the source documents each record "
        "names. Places take the directory's query parameters. See docs/api.md."
    ),
    "VERSION": "1",
    "LICENSE": {
        "name": "Licence Ouverte / Open Licence 2.0",
        "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "TerritoryKindEnum": "catalogue.models.Territory.Kind",
        "OrganisationKindEnum": "catalogue.models.Organisation.Kind",
        "SourceKindEnum": "catalogue.models.Source.Kind",
        "LessonKindEnum": "catalogue.models.Lesson.Kind",
        "CaseStudyKindEnum": "casestudies.models.CaseStudy.Kind",
        "ComparisonColumnKindEnum": "casestudies.models.ComparisonColumn.Kind",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Anyone may read the API and the downloads from another site (GET only, no cookies).
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_URLS_REGEX = r"^/(en/)?(api/|lieux/export\.)"

# Deployment-only switches, off by default so local runs and tests work over plain HTTP.
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT")
# Load balancers ask /healthz over plain HTTP, straight from the backend: no redirect there.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_flag("SECURE_COOKIES")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_flag("BEHIND_TLS_PROXY") else None
)
# HSTS (docs/deployment.md, "Security"): raise SECURE_HSTS_SECONDS step by step; the two
# flags below commit every subdomain to HTTPS, and the preload list for months.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD")
# Django's defaults, spelled out: no MIME sniffing, no Referer sent to other sites.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Checks `manage.py check --deploy` should not report, e.g. `security.W021` for a site that
# deliberately stays off the HSTS preload list.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", "")

# Content-Security-Policy (django-csp, innovplaces/security.py): scripts, styles, fonts and
# requests from the site itself only, nothing inline; images also from the map's tile
# server and the uploaded images' storage; no other site may frame a page, except the
# embeddable list and map (catalogue/embed.py). CSP_REPORT_ONLY=1 sends the same policy as
# Content-Security-Policy-Report-Only (to try it out), CSP_REPORT_URI names a report URL.
_CSP = security.content_security_policy(MAP_TILE_URL, os.environ)
if env_flag("CSP_REPORT_ONLY"):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP
# The browser features no page uses, refused to the site and to what it frames.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Admin login throttle (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a row
# for one username from one address, that pair is refused for AXES_COOLOFF_TIME (each new
# attempt starts the wait again); a successful login clears the count. The address is the
# one the API throttle uses (NUM_PROXIES above). `manage.py axes_reset` lifts every lock.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_flag("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "innovplaces.security.client_ip"
AXES_LOCKOUT_CALLABLE = "innovplaces.security.lockout_response"
# Keep no personal data beyond what the throttle needs: failed attempts are deleted once
# older than the cool-off; successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
