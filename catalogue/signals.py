from django.db.models import TextField
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from . import editing, images, versioning
from .headlines import refresh_headlines
from .models import Figure, Funding, Lesson, Organisation, Place, PlaceKind, Service, Territory

# Resized copies of a new image, made once whatever saved the place (admin, shell, loader).
post_save.connect(images.place_saved, sender=Place, dispatch_uid="place-image")
post_delete.connect(images.place_deleted, sender=Place, dispatch_uid="place-image-deleted")


@receiver([post_save, post_delete], sender=Figure)
def figure_changed(sender, instance, **kwargs):
    refresh_headlines([instance.place_id])


# What the directory's cached facet counts depend on.
for model in (Place, Figure, Funding, Lesson, Organisation, PlaceKind, Service, Territory):
    post_save.connect(versioning.bump, sender=model, dispatch_uid=f"bump-{model.__name__}")
    post_delete.connect(versioning.bump, sender=model, dispatch_uid=f"del-{model.__name__}")
for relation in (Place.kinds.through, Place.services.through, Place.sources.through):
    m2m_changed.connect(versioning.bump, sender=relation, dispatch_uid=f"m2m-{relation.__name__}")

# A figure, funding or lesson saved or deleted changes its place: a form opened on the
# place before that is stale (optimistic locking), and the place's history page lists it.
for model in (Figure, Funding, Lesson):
    editing.track_child(model, "place")


@receiver(post_save, sender=Figure)
@receiver(post_save, sender=Funding)
@receiver(post_save, sender=Lesson)
def cite_source_on_place(sender, instance, raw=False, **kwargs):
    """A place lists the sources its facts come from: an interview an editor cites for a
    figure becomes one of the place's sources, as a document cited by the corpus is."""
    if raw or not instance.place_id or not instance.source_id:
        return
    through = Place.sources.through
    if not through.objects.filter(
        place_id=instance.place_id, source_id=instance.source_id
    ).exists():
        Place.objects.get(pk=instance.place_id).sources.add(instance.source_id)


@receiver(pre_save)
def plain_newlines(sender, instance, raw=False, **kwargs):
    """Texts are stored with LF line breaks, whatever sent them (a browser's CRLF, an
    imported spreadsheet), so that the same text always compares equal."""
    if raw or sender._meta.app_label not in ("catalogue", "casestudies"):
        return
    for field in sender._meta.concrete_fields:
        if isinstance(field, TextField):
            value = getattr(instance, field.attname)
            if isinstance(value, str) and "\r" in value:
                setattr(instance, field.attname, value.replace("\r\n", "\n").replace("\r", "\n"))
