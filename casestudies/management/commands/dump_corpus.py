from django.core.management.base import BaseCommand

from casestudies.corpus import FIXTURES_DIR
from casestudies.dump import dump_corpus


class Command(BaseCommand):
    help = (
        "Write the database back into the corpus files (fixtures/), changing only what "
        "editors changed, so that their work can be reviewed and committed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures", default=str(FIXTURES_DIR), help="Folder holding the corpus files."
        )
        parser.add_argument(
            "--output",
            help="Write the changed files into this folder (laid out like the corpus) "
            "instead of over the corpus files.",
        )

    def handle(self, *args, fixtures, output, **options):
        written = dump_corpus(fixtures, output)
        for path in written:
            self.stdout.write(f"written: {path}")
        if written:
            self.stdout.write(self.style.SUCCESS(f"{len(written)} file(s) written."))
        else:
            self.stdout.write(
                self.style.SUCCESS("The corpus files already say what the database says.")
            )
