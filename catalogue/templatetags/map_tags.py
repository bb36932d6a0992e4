"""The small maps of place and territory pages (catalogue.maps)."""

from django import template

from ..maps import small_map

register = template.Library()


@register.inclusion_tag("catalogue/map_small.html")
def place_map(place):
    """Where the place is: its own point, or its commune's centre. Reads the place's
    territory chain (catalogue.place_page.attach_territories)."""
    return small_map(place=place)


@register.inclusion_tag("catalogue/map_small.html", takes_context=True)
def territory_map(context, territory):
    """The places of the territory (with the directory filters of the page)."""
    return small_map(territory=territory, request=context.get("request"))
