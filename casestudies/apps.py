from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasestudiesConfig(AppConfig):
    name = "casestudies"
    verbose_name = _("Case studies")

    def ready(self):
        from catalogue.editing import track_child

        from .models import ComparisonCell, ComparisonColumn, ComparisonRow, Section

        # A section saved or deleted changes its case study, a row, column or cell its
        # table: a form opened on the parent before is stale (optimistic locking).
        track_child(Section, "case_study")
        for model in (ComparisonRow, ComparisonColumn, ComparisonCell):
            track_child(model, "table")
