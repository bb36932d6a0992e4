"""Which case study a passage of a source belongs to, and which places a case study is about.

Every figure, funding and lesson names the `section` of its source that prints it
(« 2.3 Les Articulteurs — Gouvernance »); every case study names the `source_section` it was
written from (« 2. Études de cas PTCE — 2.3 Les Articulteurs (Bretagne) »). A row belongs to
the case study of the same source whose section its own section names best: the words and
numbers the two share, each weighted by how rare it is among that source's case studies, so
that « 2.3 » and « Articulteurs » decide and « Partie » or « étude de cas » do not. Only the
part of a row's section before its first « — » counts (what follows names a subsection).
When two case studies score the same, or none shares a word, the row belongs to none.

A monograph is about its own places: those most of whose rows (of its source) belong to it,
and those whose rows belong to no monograph at all (a part of the case with no text of its
own, such as the technopôle of the Arsenal de Rochefort). Another place it lists, whose rows
belong to another monograph, is only cited: its identity card, figures and lessons are not
this case study's. Syntheses and expert views are about all the places they list.
"""

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from catalogue.models import Figure, Funding, Lesson

from .models import CaseStudy

# Words too common to tell two sections apart, whatever the source.
STOPWORDS = frozenset("a au aux d de des du en et l la le les par pour sur un une".split())
SUBSECTION = " — "


def fold(text):
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def tokens(text):
    """Words and section numbers of a section name, without accents or plural « s »."""
    found = set()
    for token in re.findall(r"\d+(?:\.\d+)*|[a-z]+", fold(text)):
        if token in STOPWORDS:
            continue
        if not token[0].isdigit() and len(token) > 3 and token.endswith("s"):
            token = token[:-1]
        found.add(token)
    return found


def head(section):
    """The part of a row's section that names a part of the source, not a subsection."""
    return (section or "").split(SUBSECTION)[0]


@dataclass(eq=False)
class Case:
    pk: int
    slug: str
    kind: str
    source_id: int
    section: str
    places: frozenset  # place pks
    words: set = field(default_factory=set)

    @property
    def is_monograph(self):
        return self.kind == CaseStudy.Kind.MONOGRAPH


class Attribution:
    """Matches sections to case studies; built once from every case study of the catalogue
    (a few dozen) and the rows of the places involved."""

    def __init__(self, cases, rows=()):
        self.cases = {case.pk: case for case in cases}
        self.by_source = defaultdict(list)
        for case in self.cases.values():
            case.words = tokens(case.section)
            self.by_source[case.source_id].append(case)
        self.weights = {}
        for source_id, group in self.by_source.items():
            counts = Counter(word for case in group for word in case.words)
            self.weights[source_id] = {
                word: math.log((len(group) + 1) / n) for word, n in counts.items()
            }
        self._matches = {}
        # place pk → the monographs (listing it) that most of its rows of a source belong
        # to: a row filed under the wrong place does not make that place another's.
        counts = defaultdict(Counter)
        for place_id, source_id, section in rows:
            case = self.case_for(source_id, section)
            if case is not None and case.is_monograph and place_id in case.places:
                counts[(place_id, source_id)][case.pk] += 1
        self.claimed = defaultdict(set)
        for (place_id, _source_id), per_case in counts.items():
            most = max(per_case.values())
            self.claimed[place_id] |= {pk for pk, n in per_case.items() if n == most}

    @classmethod
    def from_database(cls, place_ids=None):
        """Every case study, and the rows of ``place_ids`` (all places when None)."""
        # Two queries: the case studies with their places (one row per pair), and the rows
        # of the places as one UNION.
        cases, places = {}, defaultdict(set)
        for pk, slug, kind, source_id, section, place_id in CaseStudy.objects.values_list(
            "pk", "slug", "kind", "source_id", "source_section", "places"
        ).order_by():
            cases.setdefault(pk, Case(pk, slug, kind, source_id, section, frozenset()))
            if place_id is not None:
                places[pk].add(place_id)
        for case in cases.values():
            case.places = frozenset(places[case.pk])
        parts = []
        for model in (Figure, Funding, Lesson):
            queryset = model.objects.exclude(place=None).order_by()
            if place_ids is not None:
                queryset = queryset.filter(place__in=place_ids)
            parts.append(queryset.values_list("place_id", "source_id", "section"))
        rows = parts[0].union(*parts[1:], all=True)
        return cls(list(cases.values()), rows)

    def case_for(self, source_id, section):
        """The case study of ``source_id`` that ``section`` belongs to, or None."""
        key = (source_id, head(section))
        if key not in self._matches:
            self._matches[key] = self._match(*key)
        return self._matches[key]

    def _match(self, source_id, section_head):
        words = tokens(section_head)
        weights = self.weights.get(source_id, {})
        scored = sorted(
            (
                (sum(weights[w] for w in words & case.words), case)
                for case in self.by_source.get(source_id, [])
            ),
            key=lambda pair: -pair[0],
        )
        if not scored or scored[0][0] <= 0:
            return None
        if len(scored) > 1 and math.isclose(scored[0][0], scored[1][0]):
            return None
        return scored[0][1]

    def own_places(self, case):
        """Place pks a case study is about (see the module's docstring)."""
        case = self.cases[case] if isinstance(case, int) else case
        if not case.is_monograph:
            return set(case.places)
        own = {pk for pk in case.places if case.pk in self.claimed[pk] or not self.claimed[pk]}
        return own or set(case.places)

    def lesson_case(self, place_id, source_id, section):
        """The case study that presents a place's lesson: the one its section belongs to,
        else the monograph of that source about its place, when there is exactly one."""
        case = self.case_for(source_id, section)
        if case is not None:
            return case
        homes = [
            case
            for case in self.by_source.get(source_id, [])
            if case.is_monograph and place_id in case.places and place_id in self.own_places(case)
        ]
        return homes[0] if len(homes) == 1 else None


def case_places(case):
    """(own places, cited places) of a case study fetched with its ``places``."""
    places = list(case.places.all())
    attribution = Attribution.from_database([p.pk for p in places])
    if case.pk not in attribution.cases:
        return places, []
    own = attribution.own_places(case.pk)
    return [p for p in places if p.pk in own], [p for p in places if p.pk not in own]
