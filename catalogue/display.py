"""Choice labels looked up in a table built once per field.

Django's generated ``get_FOO_display()`` builds a dict of the field's choices on every
call, hashing each lazy label, which translates it: 80 µs for a field of 5 choices, 200 µs
for one of 15. A place page calls it about 17 times, a directory page once or more per
card. The methods installed here look the label up in a dict of translated labels built
once per field and language, and return what Django's would.
"""

import functools
from functools import partialmethod

from django.utils import translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@functools.cache
def _labels(field, language):
    with translation.override(language):
        return {make_hashable(value): force_str(label) for value, label in field.flatchoices}


def _display(self, field):
    value = getattr(self, field.attname)
    try:
        return _labels(field, translation.get_language())[make_hashable(value)]
    except (KeyError, TypeError):  # not one of the choices (TypeError: not even hashable)
        return force_str(value, strings_only=True)


def _method(field):
    """``get_FOO_display()`` for ``field``: its labels looked up by language in a dict
    (hashing the field to find them in `_labels`' cache cost as much as the rest)."""
    attname, tables = field.attname, {}

    def display(self):
        language = translation.get_language()
        table = tables.get(language)
        if table is None:
            table = tables[language] = _labels(field, language)
        value = getattr(self, attname)
        try:
            return table[value]
        except (KeyError, TypeError):
            return _display(self, field)  # a value to make hashable, or none of the choices

    return display


def install(models):
    """Replace the ``get_FOO_display()`` methods Django generated on ``models`` (those a
    model defines itself are left alone)."""
    for model in models:
        for field in model._meta.fields:
            name = f"get_{field.name}_display"
            if field.choices is not None and isinstance(model.__dict__.get(name), partialmethod):
                setattr(model, name, _method(field))
