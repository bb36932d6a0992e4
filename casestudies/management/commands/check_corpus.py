from django.core.management.base import BaseCommand, CommandError

from casestudies.checks import figure_breakdowns, problems, source_counts


class Command(BaseCommand):
    help = "Count the catalogue per source and list published records that lack required data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict", action="store_true", help="Exit with an error when a problem is found."
        )

    def handle(self, *args, strict, **options):
        for row in source_counts():
            self.stdout.write(self.style.MIGRATE_HEADING(f"{row['source']} ({row['source'].slug})"))
            self.stdout.write(
                f"  places {row['places']} · case studies {row['case_studies']} · sections "
                f"{row['sections']} · fundings {row['fundings']} · lessons {row['lessons']}"
            )
            figures = row["figures"]
            detail = ", ".join(f"{slug} {n}" for slug, n in sorted(figures.items()))
            self.stdout.write(f"  figures {sum(figures.values())}: {detail or '-'}")
        warnings = figure_breakdowns().warnings
        if warnings:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(warnings)} figure(s) to check against the source: items that do "
                    "not add up to their printed total"
                )
            )
            for line in warnings:
                self.stdout.write(f"  - {line}")
        found = problems()
        if not found:
            self.stdout.write(self.style.SUCCESS("No record lacks required data."))
            return
        self.stdout.write(self.style.WARNING(f"{len(found)} problem(s):"))
        for line in found:
            self.stdout.write(f"  - {line}")
        if strict:
            raise CommandError(f"{len(found)} problem(s) in the corpus")
