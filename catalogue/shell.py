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
"""

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.test.signals import template_rendered
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import mark_safe

# Where part number n goes: characters no template or translation holds.
SEPARATOR = "\x1e"
_kept = {}
_lock = threading.Lock()


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


@receiver(setting_changed, dispatch_uid="shell-setting-changed")
def _forget(setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "TEMPLATES", "STORAGES"}:
        with _lock:
            _kept.clear()
