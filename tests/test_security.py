"""Security headers, the deployment checklist and the admin login throttle."""

import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.urls import reverse

from innovplaces import security

ROOT = Path(__file__).resolve().parent.parent


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


# Headers ---------------------------------------------------------------------------------


def test_pages_forbid_inline_code_and_framing(client, corpus):
    response = client.get("/lieux/?kind=fab-lab")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_map_tiles_are_the_only_other_image_host(client, corpus, settings):
    policy = directives(client.get("/carte/"))
    assert policy["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert policy["connect-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/integrer/lieux/?kind=fab-lab", "/integrer/carte/"])
def test_embeddable_pages_may_be_framed_anywhere_but_keep_the_rest(client, corpus, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert "frame-ancestors" not in policy
    assert "X-Frame-Options" not in response
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]


def test_the_snippet_page_itself_is_not_embeddable(client, corpus):
    response = client.get("/integrer/")
    assert directives(response)["frame-ancestors"] == ["'none'"]


def test_permissions_policy_and_other_headers(client, corpus):
    response = client.get("/")
    policy = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "browsing-topics"):
        assert policy[feature] == "()"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_api_and_downloads_carry_the_headers_too(client, corpus):
    for path in ("/api/v1/places/", "/lieux/export.csv", "/api/v1/docs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response)["script-src"] == ["'self'"], path
        assert "Permissions-Policy" in response, path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://localhost:8080/tiles/{z}/{x}/{y}.png", "http://localhost:8080"),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),
    ],
)
def test_origin_of_a_tile_url(url, expected):
    assert security.origin(url) == expected


def test_uploaded_images_on_object_storage_are_allowed():
    policy = security.content_security_policy(
        "", {"MEDIA_BUCKET": "pictures", "MEDIA_CUSTOM_DOMAIN": "img.example.org"}
    )
    assert policy["DIRECTIVES"]["img-src"] == ["'self'", "data:", "https://img.example.org"]
    policy = security.content_security_policy(
        "", {"MEDIA_BUCKET": "pictures", "MEDIA_ENDPOINT_URL": "https://s3.example.net/"}
    )
    assert policy["DIRECTIVES"]["img-src"] == ["'self'", "data:", "https://s3.example.net"]
    assert security.content_security_policy("", {})["DIRECTIVES"]["img-src"] == [
        "'self'",
        "data:",
    ]


def test_templates_hold_no_inline_script_or_style():
    """The CSP refuses inline code: it belongs in static/ files. JSON data blocks are not
    run, and the PDF template is only read by WeasyPrint, never served as HTML."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.name == "casestudy_pdf.html":
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            lowered = line.lower()
            plain_script = "<script" in lowered and "src=" not in lowered
            data_block = 'type="application/json"' in lowered or "application/ld+json" in lowered
            if (plain_script and not data_block) or "<style" in lowered or "style=" in lowered:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


class InlineCode(HTMLParser):
    """Collects what the policy would block in a page: inline scripts (not JSON data),
    `<style>` elements, `style` attributes, event handler attributes, javascript: links."""

    DATA_TYPES = {"application/json", "application/ld+json"}

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") not in self.DATA_TYPES:
            self.found.append(f"<script {attrs}>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "href" and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} href={value!r}>")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/lieux/?kind=ptce&setting=rural",
        "/lieux/fab-lab-crest/",
        "/carte/",
        "/carte/densite/",
        "/etudes-de-cas/",
        "/etudes-de-cas/archeomed/",
        "/comparer/?lieux=fab-lab-crest,archeomed",
        "/enseignements/",
        "/enseignements/themes/",
        "/tableaux/memento-adherents-personnel/",
        "/statistiques/",
        "/territoires/auvergne-rhone-alpes/",
        "/glossaire/",
        "/a-propos/",
        "/sources/",
        "/integrer/",
        "/integrer/carte/",
        "/proposer/",
        "/lieux/n-existe-pas/",
        "/api/v1/docs/",
        "/admin/login/",
    ],
)
def test_rendered_pages_hold_no_inline_code(client, corpus, path):
    response = client.get(path)
    assert response.status_code in {200, 404}
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.found == []


# check --deploy --------------------------------------------------------------------------

PRODUCTION_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "innovplaces.example",
    "CSRF_TRUSTED_ORIGINS": "https://innovplaces.example",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
}


def run_deploy_check(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and not key.startswith(("SECURE_", "DJANGO_"))
    }
    env.update(PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50), **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = run_deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_complains_without_them():
    """The test above can fail: the local defaults are not fit for production."""
    result = run_deploy_check(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


# Admin login throttle --------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def editors(db):
    return [
        User.objects.create_user(name, password=PASSWORD, is_staff=True, is_superuser=True)
        for name in ("camille", "dominique")
    ]


def attempt(client, username, password, address="192.0.2.10", **headers):
    return client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(client):
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_at_that_address(client, editors):
    for number in range(1, 5):
        response = attempt(client, "camille", f"wrong {number}")
        assert response.status_code == 200
        assert 'class="errornote"' in response.content.decode()  # the form's own error
        assert "Trop de tentatives" not in response.content.decode()
    fifth = attempt(client, "camille", "wrong 5")
    assert fifth.status_code == 429
    assert "Trop de tentatives de connexion échouées" in fifth.content.decode()
    # Even the right password is refused now.
    sixth = attempt(client, "camille", PASSWORD)
    assert sixth.status_code == 429
    text = sixth.content.decode()
    assert "Trop de tentatives de connexion échouées" in text
    assert "15 minutes" in text
    assert sixth["Retry-After"] == "900"
    assert not logged_in(client)
    assert client.get("/admin/").status_code == 302


def test_the_lock_holds_only_that_username_at_that_address(client, editors):
    for number in range(5):
        attempt(client, "camille", f"wrong {number}")
    assert attempt(client, "camille", PASSWORD).status_code == 429
    # Another editor at the same address.
    assert attempt(client, "dominique", PASSWORD).status_code == 302
    assert logged_in(client)
    client.logout()
    # The same editor from another address.
    assert attempt(client, "camille", PASSWORD, address="198.51.100.7").status_code == 302
    assert logged_in(client)


def test_a_successful_login_clears_the_count(client, editors):
    for number in range(4):
        attempt(client, "camille", f"wrong {number}")
    assert attempt(client, "camille", PASSWORD).status_code == 302
    client.logout()
    for number in range(4):
        assert attempt(client, "camille", f"wrong again {number}").status_code == 200
    assert attempt(client, "camille", PASSWORD).status_code == 302


def test_the_lockout_page_in_english(client, editors):
    for number in range(5):
        attempt(client, "camille", f"wrong {number}")
    response = client.post(
        "/en/admin/login/",
        {"username": "camille", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed login attempts" in text
    assert "After 5 wrong passwords in a row" in text


def test_behind_the_proxy_the_address_it_saw_counts(client, editors, settings):
    """With one proxy, the last X-Forwarded-For entry is the client: what the client wrote
    before it changes nothing, and every request reaches Django from the proxy's address."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for number in range(5):
        attempt(
            client,
            "camille",
            f"wrong {number}",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{number}, 192.0.2.44",
        )
    record = AccessAttempt.objects.get(username="camille")
    assert record.ip_address == "192.0.2.44"
    assert record.failures_since_start == 5
    forged = attempt(
        client, "camille", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.44"
    )
    assert forged.status_code == 429
    # Another client behind the same proxy is not locked out.
    other = attempt(
        client, "camille", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.45"
    )
    assert other.status_code == 302


def test_the_policy_follows_its_settings_and_each_view_s_changes(client, corpus, settings):
    # The header of the settings' policy is built once (innovplaces.security.CSPMiddleware):
    # a change to the settings must show, and a view's own policy must still apply.
    place = "/lieux/fab-lab-crest/"
    assert directives(client.get(place))["img-src"] == [
        "'self'",
        "data:",
        "https://tile.openstreetmap.org",
    ]
    policy = {**settings.CONTENT_SECURITY_POLICY}
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": ["'self'", "https://img.example"]}
    settings.CONTENT_SECURITY_POLICY = policy
    assert directives(client.get(place))["img-src"] == ["'self'", "https://img.example"]
    assert "frame-ancestors" not in directives(client.get("/integrer/carte/"))
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = policy
    response = client.get("/lieux/")
    assert response["Content-Security-Policy-Report-Only"] == response["Content-Security-Policy"]
