"""The small map of territory pages (catalogue.maps; a place page's is drawn by
`catalogue.jinja.place_map`)."""

from django import template

from ..maps import small_map

register = template.Library()


@register.inclusion_tag("catalogue/map_small.html", takes_context=True)
def territory_map(context, territory):
    """The places of the territory (with the directory filters of the page)."""
    return small_map(territory=territory, request=context.get("request"))
