"""The Jinja2 environment of the pages drawn by Jinja2 rather than by Django's template
language: the body of a place page (``templates/jinja2/``), the page a search engine
sends most visitors to. Jinja2 compiles a template to Python once; Django's language
walks its nodes on every render, which cost 4-5 ms of a place page's 10-15.

Values are written as Django's templates write them: localized (numbers, dates) and
escaped with Django's own escaping, so that the page is the same HTML as when Django's
language drew it (blank lines apart). Strings go through Django's translations:
``_("…")`` in a template is found by ``makemessages`` as in Django's templates (in
``{{ }}`` first, or anywhere in ``{% %}``); plurals are written here, in Python, for the
same reason.
"""

import html

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.template.loader import get_template
from django.templatetags.l10n import unlocalize
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext, ngettext, override
from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from . import shell
from .links import Linker, route_url
from .maps import small_map
from .templatetags.catalogue_tags import (
    amount,
    figure_value,
    grouped,
    lang_of,
    place_image,
    source_ref,
)
from .templatetags.glossary_tags import glossary_link


def written(value):
    """What ``{{ value }}`` writes: as Django's templates write a variable (localized,
    then escaped unless already safe HTML)."""
    if type(value) is str:  # most values: escaped as Django's `escape` does, directly
        return html.escape(value)
    return conditional_escape(localize(template_localtime(value)))


def translated(message):
    """``_("…")``: a literal's translation, safe HTML as Django's templates take it."""
    return mark_safe(gettext(message))


# language → {message: translation, (singular, count): counted words}, filled as pages
# are drawn.
_translations = {}
# language → the environment whose templates have their literals translated.
_environments = {}


def translator(language):
    """``_`` for a render in ``language``: each message translated once per process.
    Django's gettext looks up the active language and walks its catalogues on every
    call, about 9 µs. (The literals of the templates `render` draws are translated when
    they are compiled: see TranslatedLiterals.)"""
    known = _translations.setdefault(language, {})

    def _(message):
        text = known.get(message)
        if text is None:
            text = known[message] = translated(message)
        return text

    return _


class TranslatedLiterals(Extension):
    """Writes ``_("literal")`` as its translation, in the environment's ``language``,
    when a template is compiled: as ``"translation"|safe``, which Jinja2 turns into a
    constant, so that drawing the page calls nothing for it. A place page has some fifty
    literals, each a call through the template's context, a lookup and a write (3-4 µs)
    on every page. Anything else after ``_(`` is left to the ``_`` of the context."""

    def filter_stream(self, stream):
        language = self.environment.language
        tokens = list(stream)
        found, n = [], 0
        while n < len(tokens):
            call = tokens[n : n + 4]
            if (
                [token.type for token in call] == ["name", "lparen", "string", "rparen"]
                and call[0].value == "_"
                and (n == 0 or tokens[n - 1].type != "dot")
            ):
                lineno = call[0].lineno
                with override(language):
                    text = gettext(call[2].value)
                found += [
                    Token(lineno, "string", text),
                    Token(lineno, "pipe", "|"),
                    Token(lineno, "name", "safe"),
                ]
                n += 4
            else:
                found.append(tokens[n])
                n += 1
        return TokenStream(iter(found), stream.name, stream.filename)


def in_language(language):
    """The environment of the templates that `render` draws in ``language``: Django's
    Jinja2 environment, with its literals translated when compiled (TranslatedLiterals);
    each keeps its compiled templates."""
    found = _environments.get(language)
    if found is None:
        base = engines["jinja2"].env
        found = base.overlay(extensions=[TranslatedLiterals], cache_size=400)
        found.language = language
        _environments[language] = found
    return found


@receiver(setting_changed, dispatch_uid="jinja-translations-setting-changed")
def _forget_translations(setting, **kwargs):
    # As Django forgets its own catalogues when these change (in tests).
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "TEMPLATES"}:
        _translations.clear()
        _environments.clear()


def render(template_name, context):
    """The template ``template_name`` drawn with ``context`` in the active language, as
    safe HTML to put in a Django template. Its ``url(viewname)`` and ``link(record)``
    (a record's page) read what links depend on once (catalogue.links.Linker)."""
    linker = Linker()
    language = get_language()
    context = {
        **context,
        "_": translator(language),
        "url": linker.url,
        "link": linker.link,
    }
    return mark_safe(in_language(language).get_template(template_name).render(context))


def fill(message, **values):
    """``_("Image: %(credit)s")|fill(credit=…)``: the values written into a translation
    as ``{% blocktranslate with … %}`` writes them (localized, escaped)."""
    # As plain text: a constant translation (TranslatedLiterals) is Jinja2's Markup,
    # whose `%` would escape the values a second time.
    return mark_safe(str(message) % {name: written(value) for name, value in values.items()})


def counted(singular, plural, count):
    """``ngettext(singular, plural, count)`` with ``count`` put in, each kept once per
    language and count (each similar place names two counts)."""
    known = _translations.setdefault(get_language(), {})
    key = (singular, count)
    text = known.get(key)
    if text is None:
        text = known[key] = ngettext(singular, plural, count) % {"counter": count}
    return text


def kinds_in_common(count):
    return counted("%(counter)s kind in common", "%(counter)s kinds in common", count)


def services_in_common(count):
    return counted("%(counter)s service in common", "%(counter)s services in common", count)


def editorial_banner(status, kind, place_status=""):
    """The banner of a page not published (Django's template, shared with case studies)."""
    return get_template("includes/editorial_banner.html").render(
        {"status": status, "kind": kind, "place_status": place_status}
    )


SMALL_MAP = "catalogue/map_small.html"


def place_map(place):
    """Where the place is: its own point, or its commune's centre (Django's template,
    shared with the territory pages). Reads the place's territory chain
    (catalogue.place_page.attach_territories). Drawn once per language and kind of point
    (catalogue.shell.filled), then filled in with the place's point and name; or nothing,
    drawn once too, for a place without a point."""
    context = small_map(place=place)
    label = context.pop("label")
    parts = {}
    if context["latitude"] is not None:
        parts = {
            name: conditional_escape(unlocalize(context.pop(name)))
            for name in ("latitude", "longitude")
        }
        parts["label"] = conditional_escape(label)
    # (Without a point, nothing of the place is drawn: the same for every such place.)
    key = tuple(
        (name, tuple(value.items()) if isinstance(value, dict) else value)
        for name, value in sorted(context.items())
    )
    return shell.filled(SMALL_MAP, parts, context, key)


def django_date(value, format_name=None):
    """Django's ``date`` filter, in local time as Django's templates give it."""
    return date_filter(template_localtime(value), format_name)


def environment(**options):
    # Escaping is Django's, applied to every value written (`written`): Jinja2's own
    # would write an apostrophe as &#39; where Django writes &#x27;.
    options["autoescape"] = False
    env = Environment(finalize=written, **options)
    env.globals.update(
        _=translated,
        url=route_url,
        kinds_in_common=kinds_in_common,
        services_in_common=services_in_common,
        source_ref=source_ref,
        lang_of=lang_of,
        place_image=place_image,
        place_map=place_map,
        editorial_banner=editorial_banner,
    )
    env.filters.update(
        amount=amount,
        figure_value=figure_value,
        grouped=grouped,
        fill=fill,
        glossary_link=glossary_link,
        date=django_date,
    )
    return env
