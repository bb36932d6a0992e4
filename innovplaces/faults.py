"""When the database goes away: the styled 503 page, and the health endpoint.

A database that is stopped, restarting or unreachable raises OperationalError (the
connection fails) or InterfaceError (a kept connection died). Pages then answer the site's
503 page, drawn without touching the database, with a Retry-After header; the next request
connects again (CONN_HEALTH_CHECKS drops a dead kept connection), so the site recovers by
itself when the database returns. See docs/deployment.md, "Failures".
"""

import logging
import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Seconds a client (or a proxy) is told to wait before trying again.
RETRY_AFTER = 30


def unavailable_response():
    """The 503 page: no request in its context, so no context processor, no session, no
    CSRF cookie, nothing that queries. The language is the one the request activated."""
    content = render_to_string("503.html", {"database_unavailable": True})
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    # Neither the browser nor a proxy keeps the error in place of the page.
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers the 503 page when a view (or its template) cannot reach the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("Database unavailable (%s): %s", request.path, exception)
            return unavailable_response()
        return None


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: a database error raised outside a view (in a middleware, say) still gets
    the 503 page; anything else is Django's own 500 page."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return unavailable_response()
    return defaults.server_error(request, template_name)


@require_safe
def healthz(request):
    """For load balancers and monitoring: 200 when the database answers `SELECT 1`, 503
    otherwise. No cookie, never cached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DATABASE_ERRORS as error:
        logger.warning("Health check: database unavailable: %s", error)
        status, database = 503, "unavailable"
    else:
        status, database = 200, "ok"
    response = JsonResponse(
        {"status": "ok" if status == 200 else "unavailable", "database": database},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER)
    return response
