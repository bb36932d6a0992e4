import json

from django.core.management.base import BaseCommand

from casestudies.export import catalogue_data


class Command(BaseCommand):
    help = "Print the whole published catalogue as JSON on stdout (sources, places, case studies)."

    def add_arguments(self, parser):
        parser.add_argument("--indent", type=int, default=2)

    def handle(self, *args, indent, **options):
        self.stdout.write(json.dumps(catalogue_data(), ensure_ascii=False, indent=indent))
