"""Tags for what machines read in a page: canonical and hreflang links, JSON-LD, and the
directory's download links."""

from django import template
from django.urls import reverse

from .. import seo
from ..models import Territory

register = template.Library()


# Drawn by Jinja2 (catalogue/jinja.py), as every page has them.
ALTERNATE_LINKS = "includes/alternate_links.html"


@register.simple_tag(takes_context=True)
def alternate_links(context):
    """The page's canonical URL and its URL in each language, as <link> elements."""
    from catalogue import jinja  # here: it imports the map, which imports the views

    request = context.get("request")
    links = seo.alternate_links(request) if request is not None else None
    if links is None:
        return ""
    canonical, alternates = links
    return jinja.render(
        ALTERNATE_LINKS,
        {"canonical": canonical, "alternates": alternates, "default": alternates[0][1]},
    )


@register.simple_tag(takes_context=True)
def case_study_json_ld(context, case, places=()):
    return seo.json_ld(seo.case_study_data(context["request"], case, places))


@register.simple_tag(takes_context=True)
def export_query(context):
    """The query string of the places the directory shows, for its download links: the
    page's filters, without its page number and size; on a région's or a département's
    page, that territory. None on the page of a smaller territory, which no parameter
    names (the downloads would hold more than the page)."""
    request = context["request"]
    query = request.GET.copy()
    for name in ("page", "per_page"):
        query.pop(name, None)
    territory = context.get("territory")
    if territory is not None:
        if territory.kind == Territory.Kind.REGION:
            query.setlist("region", [territory.insee_code])
        elif territory.kind == Territory.Kind.DEPARTEMENT:
            query.setlist("departement", [territory.insee_code])
        else:
            return None
    return query.urlencode()


@register.simple_tag
def export_url(fmt, query):
    url = reverse(f"catalogue:export-{fmt}")
    return f"{url}?{query}" if query else url
