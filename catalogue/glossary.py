"""The glossary (`/glossaire/`) and the « À propos / méthode » page.

The terms live in fixtures/glossary.yaml, in French and in English, each with a stable
anchor; the directory's filter values that a term explains (kinds, legal forms, kinds of
funder, settings) link to it through the `glossary_tags` template library.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language

from .models import Source
from .text import fold

GLOSSARY_FILE = Path(settings.BASE_DIR) / "fixtures" / "glossary.yaml"


@dataclass(frozen=True)
class Term:
    slug: str
    term: str
    text: str
    text_en: str
    term_en: str = ""
    expansion: str = ""
    expansion_en: str = ""
    see: tuple = ()
    values: dict = field(default_factory=dict, hash=False, compare=False)

    def _localized(self, name):
        if get_language() == "en":
            return getattr(self, f"{name}_en") or getattr(self, name)
        return getattr(self, name)

    @property
    def name(self):
        return self._localized("term")

    @property
    def full_name(self):
        return self._localized("expansion")

    @property
    def definition(self):
        return self._localized("text")

    @property
    def url(self):
        return f"{reverse('catalogue:glossary')}#{self.slug}"


@cache
def terms():
    """Every term, in the order of the file: {slug: Term}."""
    with open(GLOSSARY_FILE, encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    found = {}
    for entry in data["terms"]:
        entry = {key: value for key, value in entry.items() if value is not None}
        entry["see"] = tuple(entry.get("see", ()))
        entry["values"] = {k: tuple(v) for k, v in entry.get("values", {}).items()}
        found[entry["slug"]] = Term(**entry)
    return found


@cache
def explained():
    """{(filter name, value): Term}: the filter values that a term explains."""
    return {
        (name, value): term
        for term in terms().values()
        for name, values in term.values.items()
        for value in values
    }


def term_for(name, value):
    return explained().get((name, str(value)))


def glossary_page(request):
    entries = sorted(terms().values(), key=lambda term: fold(term.name))
    names = terms()
    for_template = [(term, [names[slug] for slug in term.see if slug in names]) for term in entries]
    return render(request, "catalogue/glossary.html", {"terms": for_template})


def about_page(request):
    sources = Source.objects.filter(kind__in=Source.DOCUMENT_KINDS).order_by("file_name", "slug")
    return render(request, "catalogue/about.html", {"sources": sources})
