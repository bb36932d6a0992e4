from django.db.models import TextField
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from . import editing, images, versioning
from .headlines import refresh_headlines
from .models import (
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Source,
    Territory,
)

# Resized copies of a new image, made once whatever saved the place (admin, shell, loader).
post_save.connect(images.place_saved, sender=Place, dispatch_uid="place-image")
post_delete.connect(images.place_deleted, sender=Place, dispatch_uid="place-image-deleted")


@receiver([post_save, post_delete], sender=Figure)
def figure_changed(sender, instance, **kwargs):
    refresh_headlines([instance.place_id])


# Every change to what the site shows is recorded (catalogue.versioning), in the writer's
# transaction: what the facet index holds of the places it touched, or everything.
# Vocabularies: what the facet index or the place page keeps of them in memory is read
# again after any change to one (catalogue.place_page.PAGE_VOCABULARIES).
FACET_VOCABULARIES = (Indicator, Organisation, PlaceKind, Service, Source, Territory)
NOT_CONTENT = {
    "DataVersion",
    "DataChange",
    "PlaceSearch",
    "PlaceSearchText",
    "SearchWord",
    "Proposal",
    "CorpusRecord",
}  # derived, internal, or not published
PLACE_RELATIONS = (Place.kinds.through, Place.services.through, Place.sources.through)


def _is_content(model):
    return (
        model._meta.app_label in ("catalogue", "casestudies")
        and model.__name__ not in NOT_CONTENT
        and not model.__name__.startswith("Historical")
    )


@receiver([post_save, post_delete], dispatch_uid="record-change")
def record_change(sender, instance, **kwargs):
    if not _is_content(sender):
        return
    if sender is Place:
        versioning.record([instance.pk])
    elif sender is Funding:
        versioning.record([instance.place_id])
    elif issubclass(sender, FACET_VOCABULARIES):
        versioning.bump()
    else:
        versioning.record()  # figures, lessons, case studies: no facet changes


@receiver(m2m_changed, dispatch_uid="record-relation-change")
def record_relation_change(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_") or not _is_content(type(instance)):
        return
    if sender not in PLACE_RELATIONS:
        versioning.record()
    elif not reverse:
        versioning.record([instance.pk])
    elif pk_set:
        versioning.record(pk_set)  # from a kind, service or source: its places
    else:
        versioning.bump()  # a kind's places cleared: which ones is not known


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
