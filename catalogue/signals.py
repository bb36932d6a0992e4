from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from . import versioning
from .headlines import refresh_headlines
from .models import Figure, Funding, Lesson, Organisation, Place, PlaceKind, Service, Territory


@receiver([post_save, post_delete], sender=Figure)
def figure_changed(sender, instance, **kwargs):
    refresh_headlines([instance.place_id])


# What the directory's cached facet counts depend on.
for model in (Place, Figure, Funding, Lesson, Organisation, PlaceKind, Service, Territory):
    post_save.connect(versioning.bump, sender=model, dispatch_uid=f"bump-{model.__name__}")
    post_delete.connect(versioning.bump, sender=model, dispatch_uid=f"del-{model.__name__}")
for relation in (Place.kinds.through, Place.services.through, Place.sources.through):
    m2m_changed.connect(versioning.bump, sender=relation, dispatch_uid=f"m2m-{relation.__name__}")
