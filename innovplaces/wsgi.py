"""The WSGI application. Importing it also builds the directory's facet index, so that a
new worker does not make its first visitor wait for it: with `gunicorn --preload` the
index is built once in the master and the workers start with it (copy-on-write)."""

import gc
import logging
import os

from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError, connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")
application = get_wsgi_application()


# What a first visitor would otherwise wait for besides the index: the URL patterns (and
# every view module they import), both languages' catalogues, the main templates.
WARM_TEMPLATES = [
    "home.html",
    "catalogue/place_list.html",
    "catalogue/place_detail.html",
    "casestudies/casestudy_detail.html",
]


def warm_up():
    from django.conf import settings
    from django.template import engines
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    from catalogue import facet_index

    get_resolver().url_patterns  # noqa: B018 (imports the views)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Places")
    for name in WARM_TEMPLATES:
        get_template(name)
    engines["jinja2"].get_template("catalogue/place_body.html")
    try:
        facet_index.warm_up()
    except DatabaseError:
        # The database is not there (yet): the first request builds the index instead.
        logging.getLogger(__name__).warning("facet index not built at start", exc_info=True)
    finally:
        # A connection opened before gunicorn forks must not be shared by the workers.
        connections.close_all()
    # What is loaded now lives as long as the process: out of the garbage collector's
    # sight, its full collections no longer walk the index and the app's modules (about
    # 100 ms each at 100,000 places, one every few dozen requests), and with --preload
    # the workers' collections leave the pages they share with the master untouched.
    gc.collect()
    gc.freeze()


if os.environ.get("WARM_UP", "1") != "0":
    warm_up()
