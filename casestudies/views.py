import csv
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalogue.editing import visible_or_404, with_last_modified
from catalogue.models import PUBLIC_STATUSES, Figure, Lesson, Place, Setting
from catalogue.views import COMPARE_SESSION_KEY

from . import citation, pdf
from .attribution import case_places
from .filters import CaseStudyFilter, LessonFilter, SectionFilter
from .models import CaseStudy, ComparisonCell, ComparisonRow, ComparisonTable, Section, SectionKind
from .tables import (
    MAX_PLACES,
    available_dimensions,
    build_comparison,
    build_grid,
    cell_as_text,
    parse_dimensions,
    place_queryset_for,
    places_for_comparison,
)

SELECTION_KEY = COMPARE_SESSION_KEY


def filtered(filter_class, request, queryset):
    """Apply the valid filters; invalid values are reported by the form and ignored."""
    filterset = filter_class(request.GET, queryset=queryset)
    filterset.is_valid()
    for name, value in filterset.form.cleaned_data.items():
        queryset = filterset.filters[name].filter(queryset, value)
    return filterset, queryset


def case_list(request):
    base = CaseStudy.objects.published().for_listing().order_by("source__slug", "kind", "title")
    filterset, cases = filtered(CaseStudyFilter, request, base)
    page = Paginator(cases, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "casestudies/casestudy_list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "page_obj": page,
            "paginator": page.paginator,
            "section_kinds": SectionKind.choices,
        },
    )


def case_detail_queryset():
    """Every status: drafts are previewed by staff (see visible_or_404), archived case
    studies keep their page and so do the archived places they are about."""
    return with_last_modified(
        CaseStudy.objects.select_related("source").prefetch_related(
            Prefetch("sections", queryset=Section.objects.order_by("order")),
            Prefetch(
                "places",
                queryset=Place.objects.public()
                .select_related(
                    "territory__parent__parent__parent__parent", "departement", "region"
                )
                .prefetch_related(
                    "kinds",
                    Prefetch(
                        "figures",
                        queryset=Figure.objects.filter(headline=True)
                        .select_related("indicator", "source")
                        .order_by("indicator__position"),
                    ),
                ),
            ),
            Prefetch(
                "lessons",
                queryset=Lesson.objects.select_related("place").prefetch_related(
                    Prefetch("cited_places", queryset=Place.objects.public())
                ),
            ),
        )
    )


def related_case_studies(case, limit=6):
    """Other texts on the same kind of place, in the same setting, or from the same source."""
    places = list(case.places.all())
    kind_ids = {kind.pk for place in places for kind in place.kinds.all()}
    settings = {place.setting for place in places if place.setting}
    return (
        CaseStudy.objects.published()
        .exclude(pk=case.pk)
        .filter(
            Q(places__kinds__in=kind_ids)
            | Q(places__setting__in=settings)
            | Q(source=case.source_id)
        )
        .annotate(
            shared_kinds=Count(
                "places__kinds", filter=Q(places__kinds__in=kind_ids), distinct=True
            ),
            same_setting=Count("places", filter=Q(places__setting__in=settings), distinct=True),
        )
        .select_related("source")
        .order_by("-shared_kinds", "-same_setting", "title")[:limit]
    )


def case_lessons(case, own_places):
    """The case study's lessons grouped by kind, and apart, by place, the lessons about a
    place the case study only cites (linked by an editor): never shown as its own."""
    own_ids = {place.pk for place in own_places}
    kinds = dict(Lesson.Kind.choices)
    groups, others = {}, {}
    for lesson in case.lessons.all():
        if lesson.place_id is None or lesson.place_id in own_ids:
            groups.setdefault(lesson.kind, []).append(lesson)
        else:
            others.setdefault(lesson.place_id, (lesson.place, []))[1].append(lesson)
    return (
        [(kinds[kind], groups[kind]) for kind in kinds if kind in groups],
        sorted(others.values(), key=lambda pair: pair[0].name),
    )


def case_content(case):
    """What the page (and the PDF) of a case study presents as its own: the places it is
    about with their identity cards and figures, the places it only cites, and its lessons,
    those about a cited place apart. Set as attributes of ``case``."""
    case.own_places, case.cited_places = case_places(case)
    # A synthesis about many places shows their names, not their identity cards.
    case.show_identity = case.kind == CaseStudy.Kind.MONOGRAPH or len(case.own_places) < 4
    notes = []  # every figure of an identity card gets a numbered note naming its source
    if case.show_identity:
        for place in case.own_places:
            for figure in place.figures.all():
                notes.append(figure)
                figure.note_number = len(notes)
    case.figure_notes = notes
    case.lesson_groups, case.other_lessons = case_lessons(case, case.own_places)
    return case


def case_detail(request, slug):
    case = visible_or_404(request, get_object_or_404(case_detail_queryset(), slug=slug))
    case_content(case)
    return render(
        request,
        "casestudies/casestudy_detail.html",
        {
            "casestudy": case,
            "own_places": case.own_places,
            "cited_places": case.cited_places,
            "show_identity": case.show_identity,
            "lesson_groups": case.lesson_groups,
            "other_lessons": case.other_lessons,
            "figure_notes": case.figure_notes,
            "related": related_case_studies(case),
            "reference": citation.reference(case),
        },
    )


def case_pdf(request, slug):
    case = visible_or_404(request, get_object_or_404(case_detail_queryset(), slug=slug))
    case_content(case)
    try:
        document = pdf.render_case_study(request, case)
    except pdf.PDFUnavailable as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{case.slug}.pdf"'
    return response


def case_citation(request, slug, fmt):
    case = get_object_or_404(CaseStudy.objects.public().select_related("source"), slug=slug)
    url = request.build_absolute_uri(case.get_absolute_url())
    if fmt == "bib":
        response = HttpResponse(
            citation.bibtex(case, url), content_type="application/x-bibtex; charset=utf-8"
        )
        name = f"{case.slug}.bib"
    else:
        response = HttpResponse(
            json.dumps([citation.csl_json(case, url)], ensure_ascii=False, indent=2),
            content_type="application/vnd.citationstyles.csl+json; charset=utf-8",
        )
        name = f"{case.slug}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def sections_across(request, kind):
    labels = dict(SectionKind.choices)
    if kind not in labels:
        raise Http404(_("Unknown kind of section."))
    base = (
        Section.objects.filter(
            kind=kind, case_study__editorial_status=CaseStudy.EditorialStatus.PUBLISHED
        )
        .select_related("case_study__source")
        .prefetch_related(
            Prefetch(
                "case_study__places",
                queryset=Place.objects.public().only("pk", "slug", "name", "setting"),
            )
        )
        .order_by("case_study__title", "order")
    )
    filterset, sections = filtered(SectionFilter, request, base)
    page = Paginator(sections, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "casestudies/sections_across.html",
        {
            "kind": kind,
            "kind_label": labels[kind],
            "section_kinds": SectionKind.choices,
            "filter": filterset,
            "form": filterset.form,
            "page_obj": page,
            "paginator": page.paginator,
        },
    )


def table_list(request):
    tables = ComparisonTable.objects.select_related("source").annotate(
        place_count=Count(
            "rows",
            filter=Q(rows__place__editorial_status__in=PUBLIC_STATUSES),
            distinct=True,
        ),
        column_count=Count("columns", distinct=True),
    )
    return render(request, "casestudies/comparisontable_list.html", {"tables": tables})


def table_queryset():
    return ComparisonTable.objects.select_related("source").prefetch_related(
        "columns__indicator",
        Prefetch(
            "rows",
            # Drafts stay out of saved tables; archived places keep their row.
            queryset=ComparisonRow.objects.filter(place__editorial_status__in=PUBLIC_STATUSES)
            .order_by("order")
            .prefetch_related(
                Prefetch("place", queryset=places_for_comparison(Place.objects.all()))
            ),
        ),
        Prefetch("cells", queryset=ComparisonCell.objects.all()),
    )


def table_sort(request):
    key = request.GET.get("tri", "")
    return key, request.GET.get("ordre") == "desc"


def table_detail(request, slug):
    table = get_object_or_404(table_queryset(), slug=slug)
    sort_key, descending = table_sort(request)
    return render(
        request,
        "casestudies/comparisontable_detail.html",
        {
            "table": table,
            "grid": build_grid(table, sort_key, descending),
            "sort_key": sort_key,
            "descending": descending,
        },
    )


def csv_response(filename, header, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # lets spreadsheet programs read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def table_csv(request, slug):
    table = get_object_or_404(table_queryset(), slug=slug)
    grid = build_grid(table, *table_sort(request))
    return csv_response(
        f"{table.slug}.csv",
        [_("Place"), *(column.label for column in grid["columns"])],
        [[place.name, *(cell_as_text(cell) for cell in cells)] for place, cells in grid["rows"]],
    )


def selected_slugs(request):
    """Places to compare: from the URL (shareable) or from the visitor's selection."""
    raw = request.GET.get("lieux")
    if raw is None:
        return list(request.session.get(SELECTION_KEY, []))
    return list(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))


def comparison_context(request):
    slugs = selected_slugs(request)
    available = available_dimensions()
    # Ticked boxes (a form sent without JavaScript) win over the shareable parameter.
    raw_columns = ",".join(request.GET.getlist("colonne")) or request.GET.get("colonnes")
    dimensions, unknown_dimensions = parse_dimensions(raw_columns, available)
    context = {
        "slugs": slugs,
        "dimensions": dimensions,
        "available": available.values(),
        "chosen_keys": [d.key for d in dimensions],
        "max_places": MAX_PLACES,
        "errors": [],
        "places": [],
        "rows": [],
    }
    if unknown_dimensions:
        context["errors"].append(
            _("Unknown columns ignored: %(keys)s.") % {"keys": ", ".join(unknown_dimensions)}
        )
    if len(slugs) > MAX_PLACES:
        context["errors"].append(
            _("At most %(max)s places can be compared at once; you asked for %(count)s.")
            % {"max": MAX_PLACES, "count": len(slugs)}
        )
        context["too_many"] = True
        return context
    # PostgreSQL refuses a NUL character in a query: such a slug is simply unknown.
    found = {
        place.slug: place for place in place_queryset_for([s for s in slugs if "\x00" not in s])
    }
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        context["errors"].append(
            _("Unknown places ignored: %(slugs)s.") % {"slugs": ", ".join(unknown)}
        )
    places = [found[slug] for slug in slugs if slug in found]
    context["places"] = places
    context["rows"] = build_comparison(places, dimensions)
    context["share_query"] = "lieux={}&colonnes={}".format(
        ",".join(p.slug for p in places), ",".join(d.key for d in dimensions)
    )
    return context


def compare(request):
    context = comparison_context(request)
    status = 400 if context.get("too_many") else 200
    return render(request, "casestudies/compare.html", context, status=status)


def compare_csv(request):
    context = comparison_context(request)
    if context.get("too_many"):
        return HttpResponseBadRequest(
            " ".join(context["errors"]), content_type="text/plain; charset=utf-8"
        )
    places, rows = context["places"], context["rows"]
    header = [_("Place"), *(row["dimension"].label for row in rows)]
    lines = [
        [place.name, *(cell_as_text(row["cells"][index]) for row in rows)]
        for index, place in enumerate(places)
    ]
    return csv_response("comparaison.csv", header, lines)


def same_origin(request):
    """Whether a POST comes from one of the site's own pages. Browsers send ``Origin`` with
    every POST (``Sec-Fetch-Site``, or at least ``Referer``, when older); a client that
    sends none acts on its own behalf, not on a visitor's."""
    own = f"{request.scheme}://{request.get_host()}"
    trusted = {own, *settings.CSRF_TRUSTED_ORIGINS}
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin in trusted
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc:
        return f"{referer.scheme}://{referer.netloc}" in trusted
    return True


# No CSRF token: the directory's "Compare" buttons post here, and a token would give every
# directory page a cookie, which no shared cache may keep. What a forged request could do
# is small (change a visitor's list of places to compare, no account, nothing stored
# beyond the session); it is refused anyway when it comes from another site (Origin, or
# Sec-Fetch-Site / Referer), and the session cookie is SameSite=Lax, so a cross-site POST
# does not even carry it.
@csrf_exempt
@require_POST
def compare_selection(request):
    """Add a place to, or remove it from, the visitor's comparison selection."""
    if not same_origin(request):
        return HttpResponseForbidden(
            _("This form can only be sent from this site."),
            content_type="text/plain; charset=utf-8",
        )
    selection = list(request.session.get(SELECTION_KEY, []))
    slug = request.POST.get("lieu", "")
    action = request.POST.get("action")
    if action == "clear":
        selection = []
    elif "\x00" in slug or not Place.objects.published().filter(slug=slug).exists():
        return HttpResponseBadRequest(_("Unknown place."), content_type="text/plain; charset=utf-8")
    elif action == "remove":
        selection = [s for s in selection if s != slug]
    elif slug not in selection:
        if len(selection) >= MAX_PLACES:
            messages.error(
                request, _("At most %(max)s places can be compared at once.") % {"max": MAX_PLACES}
            )
        else:
            selection.append(slug)
    if selection:
        request.session[SELECTION_KEY] = selection
    elif set(request.session.keys()) <= {SELECTION_KEY}:
        # Nothing else in the session: end it, its cookie goes, pages are shared again.
        request.session.flush()
    else:
        request.session.pop(SELECTION_KEY, None)
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(json.dumps({"selection": selection}), content_type="application/json")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("casestudies:compare")
    return redirect(target)


# Lessons a page of the library shows: the whole corpus (about 400) fits on one; a catalogue
# of 100,000 places, with 200,000 lessons, made a page of 75 MB before it was paginated.
LESSONS_PER_PAGE = 500


def _choice_rank(field, choices):
    """The position of a lesson's ``field`` value among ``choices`` (unknown values last),
    to order lessons in the order the page groups them."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, (value, _label) in enumerate(choices)),
        default=Value(len(choices)),
        output_field=IntegerField(),
    )


def lesson_list(request):
    # A lesson of a published place, or of no place but of a published case study: the
    # case studies as a subquery, not a join, so that no lesson comes twice and no
    # DISTINCT runs over them all (1.2 s for a first page of 200,000 lessons).
    in_published_case = Exists(
        CaseStudy.lessons.through.objects.filter(
            lesson_id=OuterRef("pk"),
            casestudy__editorial_status=CaseStudy.EditorialStatus.PUBLISHED,
        )
    )
    base = (
        Lesson.objects.filter(
            Q(place__editorial_status=Place.EditorialStatus.PUBLISHED)
            | Q(place=None) & in_published_case
        )
        .select_related("place", "source")
        .prefetch_related(
            Prefetch("cited_places", queryset=Place.objects.public()),
            Prefetch(
                "case_studies", queryset=CaseStudy.objects.published().only("pk", "slug", "title")
            ),
        )
        # Themes, then kinds, in the order of their choices (as grouped below): a page
        # continues where the one before stopped.
        .annotate(
            theme_rank=_choice_rank("theme", Lesson.Theme.choices),
            kind_rank=_choice_rank("kind", Lesson.Kind.choices),
        )
        .order_by("theme_rank", "kind_rank", "pk")
    )
    filterset, lessons = filtered(LessonFilter, request, base)
    page = Paginator(lessons, LESSONS_PER_PAGE).get_page(request.GET.get("page"))
    lessons = list(page.object_list)
    themes = dict(Lesson.Theme.choices)
    kinds = dict(Lesson.Kind.choices)
    groups = {}
    for lesson in lessons:
        groups.setdefault(lesson.theme, {}).setdefault(lesson.kind, []).append(lesson)
    grouped = [
        (
            theme,
            themes.get(theme, theme),
            [(kind, kinds[kind], groups[theme][kind]) for kind in kinds if kind in groups[theme]],
        )
        for theme in themes
        if theme in groups
    ]
    return render(
        request,
        "casestudies/lesson_list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "grouped": grouped,
            "lesson_count": page.paginator.count,
            "page_obj": page,
        },
    )


def lesson_themes(request):
    """How often each theme comes up, by setting: one grouped query over the lessons."""
    kinds = dict(Lesson.Kind.choices)
    kind = request.GET.get("kind", "")
    if kind and kind not in kinds:
        kind = ""
    lessons = Lesson.objects.filter(
        place__editorial_status=Place.EditorialStatus.PUBLISHED
    ).exclude(place__setting="")
    if kind:
        lessons = lessons.filter(kind=kind)
    counts = {
        (row["theme"], row["place__setting"]): row["n"]
        for row in lessons.values("theme", "place__setting").annotate(n=Count("pk")).order_by()
    }
    settings = Setting.choices
    totals = {value: sum(n for (t, s), n in counts.items() if s == value) for value, _l in settings}
    rows = []
    for theme, label in Lesson.Theme.choices:
        cells = []
        for value, _label in settings:
            n = counts.get((theme, value), 0)
            share = round(100 * n / totals[value]) if totals[value] else 0
            cells.append({"count": n, "share": share, "setting": value})
        if any(cell["count"] for cell in cells):
            rows.append(
                {
                    "theme": theme,
                    "label": label,
                    "cells": cells,
                    "total": sum(c["count"] for c in cells),
                }
            )
    rows.sort(key=lambda r: -r["total"])
    return render(
        request,
        "casestudies/lesson_themes.html",
        {
            "rows": rows,
            "settings": settings,
            "totals": totals,
            "kind": kind,
            "kinds": Lesson.Kind.choices,
        },
    )
