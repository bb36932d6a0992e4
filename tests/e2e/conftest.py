"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every request not aimed at the live server is aborted, so the tests never leave the machine.
"""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, corpus):
    """The live server's URL, with the corpus loaded."""
    return live_server.url


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})

    def only_local(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser, site):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def editor_groups(corpus):
    """The editors' groups. A data migration creates them, but the live server's database
    is emptied after each browser test: create them again the same way when they are gone."""
    import importlib

    from django.contrib.auth.models import Group, Permission

    groups = importlib.import_module("catalogue.migrations.0007_h1_editor_groups")
    if not Group.objects.filter(name="Relecteur").exists():
        contributor = groups.permissions(Permission, groups.CONTRIBUTOR)
        Group.objects.create(name="Contributeur").permissions.set(contributor)
        Group.objects.create(name="Relecteur").permissions.set(
            contributor + groups.permissions(Permission, groups.REVIEWER)
        )
    return {group.name: group for group in Group.objects.all()}
