"""Records that probably already exist under a close name.

« Region Occitanie » and « Région Occitanie », « CC du Pays de Redon » and « Communauté de
communes du Pays de Redon » name the same body. Names are compared as keys: folded (case,
accents, ligatures), punctuation dropped, usual abbreviations spelled out, little words
left out; then by difflib's ratio, or by key inclusion.

Only records of the same kind (and, for a territory, under the same parent when one is
given) are compared: two communes called Saint-Martin in two départements are two
communes. With 35,000 communes and no parent, PostgreSQL narrows the candidates with
pg_trgm first.
"""

import difflib
import re

from django.db import connection
from django.db.models import F, FloatField, Func, Value

from .text import fold

# Spelled out before comparing, so that the short and the long form meet.
ABBREVIATIONS = {
    "cc": "communaute de communes",
    "ca": "communaute d agglomeration",
    "cu": "communaute urbaine",
    "agglo": "agglomeration",
    "com": "communaute",
    "st": "saint",
    "ste": "sainte",
    "dept": "departement",
    "dpt": "departement",
    "pnr": "parc naturel regional",
    "cci": "chambre de commerce et d industrie",
    "cma": "chambre de metiers et de l artisanat",
    "asso": "association",
    "fdn": "fondation",
}
LITTLE_WORDS = {"de", "du", "des", "la", "le", "les", "d", "l", "et", "a", "au", "aux", "en"}
# Words that say what a body is, not which one: « Communauté de communes du Val de Drôme »
# and « … du Val de Saône » differ only by what is left once they are set aside.
GENERIC_WORDS = {
    "communaute",
    "communautes",
    "communes",
    "commune",
    "agglomeration",
    "urbaine",
    "metropole",
    "region",
    "regional",
    "regionale",
    "departement",
    "departemental",
    "departementale",
    "conseil",
    "mairie",
    "ville",
}
RATIO = 0.85
# Above this many candidates, PostgreSQL narrows them with trigram similarity first.
PREFILTER_ABOVE = 2000
TRIGRAM_THRESHOLD = 0.3


def name_key(name):
    """« CC du Pays-de-Redon » → « communaute communes pays redon »."""
    words = re.split(r"[^a-z0-9]+", fold(name or ""))
    expanded = []
    for word in words:
        expanded.extend(ABBREVIATIONS.get(word, word).split())
    return " ".join(w for w in expanded if w and w not in LITTLE_WORDS)


def _distinctive(key):
    return " ".join(word for word in key.split() if word not in GENERIC_WORDS)


def is_close(key, other):
    """Whether two name keys probably name the same body."""
    if not key or not other:
        return False
    if key == other:
        return True
    # Compare what tells bodies apart, unless a name is nothing but generic words.
    distinct, distinct_other = _distinctive(key), _distinctive(other)
    if distinct and distinct_other:
        key, other = distinct, distinct_other
        if key == other:
            return True
    shorter, longer = sorted((key, other), key=len)
    # « Occitanie » inside « occitanie grand sud »: whole words only, and not a single
    # short word (« saint » would match half the communes of France).
    if len(shorter) >= 6 and f" {shorter} " in f" {longer} ":
        return True
    matcher = difflib.SequenceMatcher(None, key, other)
    return (
        matcher.real_quick_ratio() >= RATIO
        and matcher.quick_ratio() >= RATIO
        and matcher.ratio() >= RATIO
    )


class _Unaccent(Func):
    function = "unaccent"


class _Similarity(Func):
    function = "similarity"
    output_field = FloatField()


def near_duplicates(queryset, name, exclude_pk=None, limit=5):
    """Records of `queryset` (already narrowed to one kind) whose name is close to `name`.

    Reads only primary keys and names; on PostgreSQL, large candidate sets are first
    narrowed to the names that share enough trigrams with the key.
    """
    key = name_key(name)
    if not key:
        return []
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    if connection.vendor == "postgresql" and queryset.count() > PREFILTER_ABOVE:
        queryset = (
            queryset.annotate(
                trigram=_Similarity(_Unaccent(Func(F("name"), function="lower")), Value(key))
            )
            .filter(trigram__gte=TRIGRAM_THRESHOLD)
            .order_by("-trigram")[:200]
        )
    found = []
    for pk, candidate in queryset.values_list("pk", "name").iterator():
        if is_close(key, name_key(candidate)):
            found.append(pk)
    return list(queryset.model.objects.filter(pk__in=found).order_by("name")[:limit])
