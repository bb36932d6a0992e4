"""Helpers for the editors' tests: fill an admin form the way a browser would, read a page
as a person does."""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django import forms

ROOT = Path(__file__).resolve().parents[1]


def _add(data, key, value):
    if value is None or value is False:
        return
    if value is True:
        data[key] = "on"
    elif isinstance(value, (list, tuple)):
        data[key] = [str(v) for v in value]
    else:
        data[key] = str(value)


def form_data(response):
    """What submitting the admin form on ``response`` unchanged would post (files apart)."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if not isinstance(field, forms.FileField):
            _add(data, form.add_prefix(name), form[name].value())
    for inline in response.context.get("inline_admin_formsets") or []:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for inline_form in formset.forms:
            for name, field in inline_form.fields.items():
                if not isinstance(field, forms.FileField):
                    _add(data, inline_form.add_prefix(name), inline_form[name].value())
    return data


def page_text(response):
    """The visible text of a page, tags removed and white space collapsed."""
    content = response.content.decode()
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def save_place_in_another_process(slug, **fields):
    """Saves the place of ``slug`` with ``fields`` changed, from a Python process of its
    own that commits and exits, as another web process would (PostgreSQL: a database two
    processes share)."""
    from django.db import connection

    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    script = (
        "import json, sys, django; django.setup()\n"
        "from catalogue.models import Place\n"
        "place = Place.objects.get(slug=sys.argv[1])\n"
        "for name, value in json.loads(sys.argv[2]).items(): setattr(place, name, value)\n"
        "place.save()\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "innovplaces.settings"}
    subprocess.run(
        [sys.executable, "-c", script, slug, json.dumps(fields)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
