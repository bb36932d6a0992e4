from django.core.management.base import BaseCommand, CommandError

from casestudies.corpus import FIXTURES_DIR, CorpusError, load_corpus

# Exit status when records changed in the database were left alone: distinct from errors
# (1), so that a start script can go on while a deployment check stops.
CONFLICT_STATUS = 3


class Command(BaseCommand):
    help = (
        "Load the curated corpus (fixtures/*.yaml) into the database. Safe to run again: "
        "records that someone changed since the last load are left alone and reported."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures", default=str(FIXTURES_DIR), help="Folder holding the corpus files."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite records changed in the database since the last load (and bring "
            "back those deleted there) with what the corpus says.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change, write nothing.",
        )

    def handle(self, *args, fixtures, force, dry_run, verbosity, **options):
        try:
            report = load_corpus(fixtures, force=force, dry_run=dry_run)
        except CorpusError as error:
            raise CommandError(str(error)) from error
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        verb = "would be " if dry_run else ""
        if dry_run or verbosity >= 2:
            for bucket, model, label, fields in report.changes:
                detail = f" ({', '.join(fields)})" if fields else ""
                self.stdout.write(f"{verb}{bucket}: {model._meta.verbose_name} « {label} »{detail}")
        for bucket in ("created", "updated", "deleted"):
            counts = getattr(report, bucket)
            if counts:
                detail = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
                self.stdout.write(f"{verb}{bucket}: {detail}")
        for model, key in report.orphans:
            self.stdout.write(
                f"not in the corpus any more, left in the database: "
                f"{model._meta.verbose_name} {key}"
            )
        for conflict in report.forced:
            self.stdout.write(self.style.WARNING(conflict.describe(forced=True)))
        for conflict in report.conflicts:
            self.stderr.write(self.style.ERROR("conflict: " + conflict.describe()))
        if dry_run:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was written."))
        elif report.writes:
            self.stdout.write(self.style.SUCCESS(f"Corpus loaded ({report.writes} writes)."))
        else:
            self.stdout.write(self.style.SUCCESS("Corpus already up to date: nothing changed."))
        if report.conflicts:
            raise CommandError(
                f"{len(report.conflicts)} record(s) changed in the database since the last load "
                "were left as they are (listed above). Take the edits into the corpus with "
                "`manage.py dump_corpus`, or overwrite them with `load_corpus --force`.",
                returncode=CONFLICT_STATUS,
            )
