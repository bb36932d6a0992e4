from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = _("Catalogue")

    def ready(self):
        from django.apps import apps

        from . import display, signals  # noqa: F401 - signals connects the receivers

        # Faster choice labels for this project's models and their histories.
        display.install(
            model
            for model in apps.get_models()
            if model._meta.app_label in {"catalogue", "casestudies"}
        )
