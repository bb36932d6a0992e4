from django.core.management.base import BaseCommand
from django.db import transaction

from casestudies.search import reindex_case_studies
from catalogue.search import reindex


class Command(BaseCommand):
    help = (
        "Rebuild the search documents of places and case studies whose text changed (all "
        "of them after a change to the way they are built, e.g. after a migration). "
        "load_corpus and the editors' admin already do it for what they change."
    )

    def handle(self, *args, **options):
        # One transaction: a run killed halfway leaves every search document as it was
        # (a stored digest without its vector would never be rebuilt).
        with transaction.atomic():
            places = reindex()
            case_studies = reindex_case_studies()
        self.stdout.write(
            self.style.SUCCESS(
                f"Search documents rebuilt: {places} place(s), {case_studies} case study(ies)."
            )
        )
