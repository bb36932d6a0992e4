"""Helpers for the editors' tests: fill an admin form the way a browser would, read a page
as a person does."""

import html
import re

from django import forms


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
