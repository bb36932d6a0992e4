from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .headlines import refresh_headlines
from .models import Figure


@receiver([post_save, post_delete], sender=Figure)
def figure_changed(sender, instance, **kwargs):
    refresh_headlines([instance.place_id])
