from django.core.management.base import BaseCommand, CommandError

from casestudies.corpus import FIXTURES_DIR, CorpusError, load_corpus


class Command(BaseCommand):
    help = "Load the curated corpus (fixtures/*.yaml) into the database. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures", default=str(FIXTURES_DIR), help="Folder holding the corpus files."
        )

    def handle(self, *args, fixtures, **options):
        try:
            report = load_corpus(fixtures)
        except CorpusError as error:
            raise CommandError(str(error)) from error
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        for bucket in ("created", "updated", "deleted"):
            counts = getattr(report, bucket)
            if counts:
                detail = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
                self.stdout.write(f"{bucket}: {detail}")
        if report.writes:
            self.stdout.write(self.style.SUCCESS(f"Corpus loaded ({report.writes} writes)."))
        else:
            self.stdout.write(self.style.SUCCESS("Corpus already up to date: nothing changed."))
