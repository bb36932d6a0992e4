"""The layout around a page (templates/base.html: head, header, navigation, footer) drawn
once per template, language and URL prefix, then filled in for each page.

A page's own parts (title, description, links, structured data, body…) are drawn first,
as safe HTML; its template puts each in a block of the layout (`{{ title }}`…). For a
visitor whose page is the same as anyone's (catalogue.http_cache), the template is drawn
once with a marker in place of each part, and each page then joins its parts between the
pieces: the place page spent about a millisecond, a tenth of its time, drawing the layout
with Django's template language. For anyone else (an editor, a visitor with a selection),
and in DEBUG, the template is drawn each time with the parts themselves: the same HTML, as
tests/catalogue/test_place_body.py checks.

A record's page (a place) also has parts that name nothing of it but its URL: its
canonical and alternate links and its language switch. `record_part` draws them once per
route, language and host for a placeholder slug, and puts each page's slug in.
"""

import copy
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.test.signals import template_rendered
from django.urls import ResolverMatch, get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.safestring import mark_safe

from .links import PLACEHOLDER, SLUG, slug_url_in

# Where part number n goes: characters no template or translation holds.
SEPARATOR = "\x1e"
_kept = {}
_lock = threading.Lock()
# What `record_part` keeps at most (with the layouts): parts × routes × languages × hosts.
KEPT_MAX = 1000


def draw(request, template_name, parts, context=None):
    """The page of ``template_name`` with ``parts`` ({name: safe HTML}) in its blocks;
    ``context``: what the parts were drawn from (given to the template too)."""
    context = {**(context or {}), **parts}
    if getattr(request, "http_cache", None) is None or settings.DEBUG:
        return render_to_string(template_name, context, request)
    if template_rendered.has_listeners():
        # What Django's templates tell the test client when they are drawn, so that
        # `response.context` holds what the page was drawn from on this path too.
        template = get_template(template_name).template
        template_rendered.send(sender=template, template=template, context=Context(context))
    return _filled(template_name, parts, {}, (), request)


def filled(template_name, parts, context, key):
    """A fragment (no request) drawn as `draw` draws a page: ``template_name`` with
    ``context`` and ``parts`` ({name: safe HTML}), where ``context`` is the same for every
    fragment of the same ``key`` (hashable). Drawn once per template, key, part names,
    language and URL prefix with markers in place of the parts, then filled in. Safe
    HTML, as a template's."""
    return mark_safe(_filled(template_name, parts, context, key))


def _filled(template_name, parts, context, key, request=None):
    names = tuple(parts)
    key = (template_name, key, names, translation.get_language(), get_script_prefix())
    pieces = _kept.get(key)
    if pieces is None:
        pieces = _pieces(request, template_name, names, context)
        with _lock:
            _kept[key] = pieces
    drawn = [pieces[0]]
    for name, piece in pieces[1:]:
        drawn.append(parts[name])
        drawn.append(piece)
    return "".join(drawn)


def _pieces(request, template_name, names, context):
    """[text, (name, text), (name, text)…]: the template drawn with markers, cut at them."""
    marked = {name: mark_safe(f"{SEPARATOR}{n}{SEPARATOR}") for n, name in enumerate(names)}
    cut = render_to_string(template_name, {**context, **marked}, request).split(SEPARATOR)
    # text, number, text, number, …, text
    pieces = [cut[0]]
    for number, text in zip(cut[1::2], cut[2::2], strict=True):
        pieces.append((names[int(number)], text))
    return pieces


def record_part(request, name, draw):
    """``draw(request)`` (safe HTML), for the page of a record: a route whose one argument
    is the record's slug, asked for without a query string. Drawn once per part ``name``,
    route, language, URL prefix, scheme and host, for a stand-in request whose slug is a
    placeholder, then with the record's slug put in its place. The page's canonical and
    alternate links and its language switch name nothing else of the page than its URL,
    and drawing them took 0.6 ms of each place page. Any other page is drawn as it
    comes."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match is not None and not match.args else None
    if (
        slug is None
        or len(match.kwargs) != 1
        or request.META.get("QUERY_STRING")
        or not SLUG.fullmatch(slug)
    ):
        return draw(request)
    language = translation.get_language()
    if slug_url_in(language, match.view_name, slug) != request.path:
        return draw(request)  # not the path the route gives in this language
    prefix, host = get_script_prefix(), request.get_host()
    if PLACEHOLDER in prefix or PLACEHOLDER in host:
        return draw(request)  # the placeholder would be found where it does not stand in
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    key = (name, match.view_name, language, prefix, urlconf, request.scheme, host)
    drawn = _kept.get(key)
    if drawn is None:
        drawn = draw(_stand_in(request, slug_url_in(language, match.view_name, PLACEHOLDER)))
        # Bounded: with ALLOWED_HOSTS = ["*"], every Host header sent would be a new key.
        if len(_kept) < KEPT_MAX:
            with _lock:
                _kept[key] = drawn
    return mark_safe(drawn.replace(PLACEHOLDER, slug))


def _stand_in(request, path):
    """``request`` as if it asked for ``path``, the same route's URL for the placeholder."""
    stand_in = copy.copy(request)
    match = request.resolver_match
    stand_in.resolver_match = ResolverMatch(
        match.func,
        (),
        {"slug": PLACEHOLDER},
        url_name=match.url_name,
        app_names=match.app_names,
        namespaces=match.namespaces,
        route=match.route,
        tried=match.tried,
        captured_kwargs={"slug": PLACEHOLDER},
        extra_kwargs=match.extra_kwargs,
    )
    stand_in.path = path
    stand_in.path_info = path[len(get_script_prefix()) - 1 :]
    return stand_in


@receiver(setting_changed, dispatch_uid="shell-setting-changed")
def _forget(setting, **kwargs):
    if setting in {
        "LANGUAGES",
        "LANGUAGE_CODE",
        "LOCALE_PATHS",
        "TEMPLATES",
        "STORAGES",
        "ALLOWED_HOSTS",
        "ROOT_URLCONF",
    }:
        with _lock:
            _kept.clear()
