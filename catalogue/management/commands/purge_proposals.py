from django.core.management.base import BaseCommand

from catalogue.proposals import contact_days, purge_contact_data, reviewed_contact_days


class Command(BaseCommand):
    help = (
        "Erase the contact details of proposals from the public once they are no longer "
        "needed (PROPOSAL_CONTACT_DAYS after receipt, PROPOSAL_REVIEWED_CONTACT_DAYS after "
        "review). Run it daily."
    )

    def handle(self, *args, **options):
        count = purge_contact_data()
        self.stdout.write(
            self.style.SUCCESS(
                f"Contact details erased from {count} proposal(s) "
                f"(received over {contact_days()} days ago, "
                f"or reviewed over {reviewed_contact_days()} days ago)."
            )
        )
