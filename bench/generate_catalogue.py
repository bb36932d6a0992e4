"""Fill a separate, empty database with a synthetic catalogue for benchmarks.

    DATABASE_URL=postgres://…/innovplaces_bench python bench/generate_catalogue.py --places 100000

It refuses to run on a database that holds anything but its own synthetic records, so the
real corpus is never mixed with generated data. Vocabularies and territories (régions,
départements) come from the corpus files; communes, places, figures, funders, lessons and
case studies are generated with a fixed seed.
"""

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from casestudies.corpus import Loader  # noqa: E402
from casestudies.ledger import Ledger  # noqa: E402
from casestudies.models import CaseStudy, Section  # noqa: E402
from catalogue import versioning  # noqa: E402
from catalogue.headlines import refresh_headlines  # noqa: E402
from catalogue.models import (  # noqa: E402
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Setting,
    Source,
    Territory,
)
from catalogue.search import reindex  # noqa: E402
from catalogue.text import fold  # noqa: E402

SYNTHETIC_SOURCE = "synthetique"
# Indicator, and the range of its value as powers of ten (log-uniform).
FIGURE_RANGES = [
    ("investment_eur", 4, 7.5),
    ("operating_budget_eur", 4, 6.5),
    ("staff", 0, 1.7),
    ("surface_m2", 2, 4),
]
PREFIXES = ["Saint-", "Sainte-", "Le ", "La ", "Les ", "", "", "", "Villeneuve-", "Mont-"]
ROOTS = [
    "Aubrac",
    "Belval",
    "Chanteloup",
    "Douvres",
    "Estivaux",
    "Fontclaire",
    "Grandchamp",
    "Hautbois",
    "Iseran",
    "Joncy",
    "Lormes",
    "Marcillac",
    "Noirval",
    "Orgelet",
    "Pradelles",
    "Quintin",
    "Rochemaure",
    "Sauvian",
    "Trébeurden",
    "Uzel",
    "Vassieux",
    "Vézelay",
    "Autrans",
    "Bellême",
    "Cluny",
    "Dieulefit",
    "Eymoutiers",
    "Figeac",
    "Gourdon",
    "Hesdin",
]
SUFFIXES = [
    "",
    "",
    "-sur-Loire",
    "-en-Vercors",
    "-les-Bains",
    "-sur-Mer",
    "-le-Château",
    "-d'Auvergne",
    "-la-Forêt",
]
NAME_PATTERNS = [
    "{kind} de {town}",
    "{kind} {town}",
    "Le {word} de {town}",
    "{word} {town}",
    "La {word} {town}",
    "Pôle {word} de {town}",
]
WORDS = [
    "Fabrique",
    "Ruche",
    "Atelier",
    "Forge",
    "Manufacture",
    "Filature",
    "Halle",
    "Serre",
    "Usine",
    "Grange",
    "Comptoir",
    "Moulin",
    "Cité",
    "Maison",
    "Coopérative",
]
THEMES = [
    "la transformation agricole en circuit court",
    "l'économie circulaire",
    "le numérique et la fabrication additive",
    "les métiers d'art et le patrimoine",
    "la silver économie",
    "l'insertion par l'activité économique",
    "l'énergie citoyenne",
    "la formation des jeunes aux métiers en tension",
    "le tourisme de nature",
    "la filière bois",
    "l'industrie du futur",
    "les industries culturelles",
]
SENTENCES = [
    "Le lieu réunit des entreprises, des associations et des collectivités autour de {theme}.",
    "Un programme d'animation rythme l'année : ateliers, rencontres et visites autour de {theme}.",
    "Le bâtiment, une ancienne {building} réhabilitée, offre {surface} mètres carrés modulables.",
    "La communauté de communes a porté l'investissement avec l'appui de la Région.",
    "Le modèle économique repose sur les loyers, les prestations et des subventions.",
    "Les élus souhaitent renforcer les liens entre la ville-centre et les communes voisines.",
    "Le projet est né de la rencontre entre des entrepreneurs locaux et un lycée professionnel.",
    "Une équipe de {staff} salariés accueille chaque semaine des porteurs de projet.",
]
# A sentence that only a place of that kind says, so kind words keep a realistic frequency.
KIND_SENTENCES = {
    "pepiniere": "La pépinière héberge de jeunes entreprises pendant leurs premières années.",
    "hotel-entreprises": "L'hôtel d'entreprises loue des bureaux à des sociétés établies.",
    "fab-lab": "Le fab lab ouvre ses machines, imprimantes 3D et découpeuse laser, au public.",
    "coworking": "L'espace de coworking accueille des indépendants et des salariés en télétravail.",
    "ptce": "Les coopératives et les associations du pôle répondent ensemble aux marchés publics.",
    "cluster": "Le cluster fédère des entreprises de la même filière sur le territoire.",
    "centre-formation": "Des formations qualifiantes préparent aux métiers en tension.",
    "tiers-lieu": "Le tiers-lieu mêle café associatif, atelier partagé et espace de travail.",
}
BUILDINGS = ["filature", "gare", "caserne", "école", "usine", "grange", "halle", "poste"]
LESSONS = [
    "Associer très tôt les futurs usagers à la conception du lieu évite un équipement vide.",
    "Un animateur dédié est indispensable pour faire vivre la communauté.",
    "Le financement du fonctionnement reste plus difficile à trouver que l'investissement.",
    "La mutualisation des équipements réduit les coûts pour les petites entreprises.",
    "Le soutien constant des élus a permis de traverser les périodes difficiles.",
    "La coopération avec la métropole voisine ouvre des marchés aux entreprises rurales.",
    "Dimensionner le bâtiment au potentiel réel du territoire limite les risques.",
]
FUNDERS = [
    ("feder", "FEDER", "eu"),
    ("leader", "LEADER", "eu"),
    ("fse", "FSE", "eu"),
    ("etat", "État", "state"),
    ("pia", "Programme d'investissements d'avenir", "state"),
    ("ademe", "ADEME", "public-agency"),
    ("banque-des-territoires", "Banque des Territoires", "public-agency"),
    ("anct", "ANCT", "public-agency"),
    ("fondation-synthetique", "Fondation du territoire", "foundation"),
]


def refuse_unless_empty():
    foreign = Place.objects.exclude(sources__slug=SYNTHETIC_SOURCE).exists()
    if foreign or CaseStudy.objects.exclude(source__slug=SYNTHETIC_SOURCE).exists():
        sys.exit("This database holds non-synthetic places: use a separate, empty database.")


def base_vocabularies():
    loader = Loader()
    loader.cache = defaultdict(dict)
    loader.ledger = Ledger()
    with transaction.atomic():
        loader.load_vocabularies()
        loader.load_sources()
        # Régions and départements only: the corpus' communes stay out.
        loader.files = [(p, d) for p, d in loader.files if p.name == "territories.yaml"]
        loader.load_territories()
    source, _ = Source.objects.get_or_create(
        slug=SYNTHETIC_SOURCE, defaults={"title": "Catalogue synthétique (benchmark)"}
    )
    for slug, name, kind in FUNDERS:
        Organisation.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
    for region in Territory.objects.filter(kind=Territory.Kind.REGION):
        Organisation.objects.get_or_create(
            slug=f"region-{region.slug}",
            defaults={"name": f"Région {region.name}", "kind": "region"},
        )
    return source


def make_communes(rng, count):
    departements = list(Territory.objects.filter(kind=Territory.Kind.DEPARTEMENT))
    existing = Territory.objects.filter(slug__startswith="synth-").count()
    communes = []
    for index in range(existing, count):
        dep = rng.choice(departements)
        name = f"{rng.choice(PREFIXES)}{rng.choice(ROOTS)}{rng.choice(SUFFIXES)}".strip()
        communes.append(
            Territory(
                slug=f"synth-{index}",
                name=name,
                kind=Territory.Kind.COMMUNE,
                parent=dep,
                departement=dep,
                region_id=dep.parent_id,
                population=int(rng.lognormvariate(8, 1.3)) + 50,
            )
        )
    Territory.objects.bulk_create(communes, batch_size=2000)
    return list(Territory.objects.filter(slug__startswith="synth-"))


def generate(count, seed=2026, batch=2000):
    rng = random.Random(seed)
    source = base_vocabularies()
    communes = make_communes(rng, max(200, count // 20))
    kinds = list(PlaceKind.objects.all())
    services = list(Service.objects.all())
    indicators = {i.slug: i for i in Indicator.objects.all()}
    organisations = list(Organisation.objects.all())
    settings = [value for value, _ in Setting.choices]
    start = Place.objects.filter(slug__startswith="synth-").count()
    KindLink, ServiceLink = Place.kinds.through, Place.services.through
    SourceLink = Place.sources.through
    for offset in range(start, count, batch):
        with transaction.atomic():
            places, primary = [], []
            for index in range(offset, min(offset + batch, count)):
                commune = rng.choice(communes)
                kind = rng.choice(kinds)
                primary.append(kind)
                name = rng.choice(NAME_PATTERNS).format(
                    kind=kind.name.split(" (")[0], town=commune.name, word=rng.choice(WORDS)
                )
                summary = " ".join(
                    s.format(
                        theme=rng.choice(THEMES),
                        building=rng.choice(BUILDINGS),
                        surface=rng.randint(2, 40) * 50,
                        staff=rng.randint(1, 12),
                    )
                    for s in rng.sample(SENTENCES, 3)
                )
                if kind.slug in KIND_SENTENCES:
                    summary = f"{KIND_SENTENCES[kind.slug]} {summary}"
                places.append(
                    Place(
                        slug=f"synth-{index}",
                        name=f"{name} {index}",
                        territory=commune,
                        departement_id=commune.departement_id,
                        region_id=commune.region_id,
                        setting=rng.choice(settings),
                        setting_as_stated="synthétique",
                        legal_form=rng.choice(
                            ["association", "scic", "sas", "sem", "collectivite"]
                        ),
                        year_opened=rng.randint(1995, 2024),
                        status="active",
                        editorial_status="published",
                        summary=summary,
                        carrier=f"Association {rng.choice(WORDS)} {commune.name}",
                    )
                )
            places = Place.objects.bulk_create(places)
            links, service_links, figures, fundings, lessons = [], [], [], [], []
            for place, main_kind in zip(places, primary, strict=True):
                extra = rng.sample(kinds, rng.randint(0, 2))
                for kind in {main_kind.pk: main_kind, **{k.pk: k for k in extra}}.values():
                    links.append(KindLink(place_id=place.pk, placekind_id=kind.pk))
                for service in rng.sample(services, rng.randint(2, 6)):
                    service_links.append(ServiceLink(place_id=place.pk, service_id=service.pk))
                for slug, low, high in (
                    ("investment_eur", 4, 7.5),
                    ("operating_budget_eur", 4, 6.5),
                    ("staff", 0, 1.7),
                    ("surface_m2", 2, 4),
                ):
                    if rng.random() < 0.8:
                        figures.append(
                            Figure(
                                place=place,
                                indicator=indicators[slug],
                                headline=True,
                                value=Decimal(round(10 ** rng.uniform(low, high))),
                                source=source,
                                section="synthétique",
                            )
                        )
                for organisation in rng.sample(organisations, rng.randint(1, 4)):
                    fundings.append(
                        Funding(
                            place=place,
                            organisation=organisation,
                            source=source,
                            purpose=rng.choice(["investment", "operating"]),
                            section="synthétique",
                            amount_eur=Decimal(rng.randint(5, 500) * 1000),
                        )
                    )
                for text in rng.sample(LESSONS, 2):
                    lessons.append(
                        Lesson(
                            place=place,
                            kind=rng.choice(Lesson.Kind.values),
                            theme=rng.choice(Lesson.Theme.values),
                            text=text,
                            source=source,
                            text_folded=fold(text),
                            section="synthétique",
                        )
                    )
            KindLink.objects.bulk_create(links)
            ServiceLink.objects.bulk_create(service_links)
            SourceLink.objects.bulk_create(
                [SourceLink(place_id=p.pk, source_id=source.pk) for p in places]
            )
            Figure.objects.bulk_create(figures)
            Funding.objects.bulk_create(fundings)
            Lesson.objects.bulk_create(lessons)
            ids = [p.pk for p in places]
            refresh_headlines(ids)
            # One monograph for one place in ten, so case-study text is searched too.
            for place in places[::10]:
                case = CaseStudy.objects.create(
                    slug=f"synth-{place.slug}",
                    title=f"Étude : {place.name}",
                    source=source,
                    kind=CaseStudy.Kind.MONOGRAPH,
                    summary=place.summary,
                )
                case.places.add(place)
                Section.objects.bulk_create(
                    [
                        Section(
                            case_study=case,
                            order=1,
                            kind="contexte",
                            heading="Contexte",
                            body=f"Le projet porte sur {rng.choice(THEMES)}.",
                        ),
                        Section(
                            case_study=case,
                            order=2,
                            kind="services",
                            heading="Services",
                            body=place.summary,
                        ),
                        Section(
                            case_study=case,
                            order=3,
                            kind="enseignements",
                            heading="Enseignements",
                            body=rng.choice(LESSONS),
                        ),
                    ]
                )
            reindex(Place.objects.filter(pk__in=ids))
        print(f"{offset + len(places)} places", flush=True)
    versioning.bump()  # bulk inserts send no signals
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    refuse_unless_empty()
    started = time.perf_counter()
    generate(args.places, args.seed)
    print(f"generated {Place.objects.count()} places in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
