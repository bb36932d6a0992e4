"""The editors' groups: contributors write drafts, reviewers publish, administrators run it.

Permissions are normally created after migrations (post_migrate); they are created here
first so that the groups can receive them on a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ["catalogue", "casestudies"]

# (app, model) → the actions a contributor has on it.
# Deleting is checked record by record like changing (catalogue.editing.can_delete): a
# contributor deletes only their own drafts and their rows.
CONTRIBUTOR = {
    ("catalogue", "place"): ["add", "change", "delete", "view"],
    ("catalogue", "figure"): ["add", "change", "delete", "view"],
    ("catalogue", "funding"): ["add", "change", "delete", "view"],
    ("catalogue", "lesson"): ["add", "change", "delete", "view"],
    ("catalogue", "organisation"): ["add", "change", "view"],
    ("catalogue", "territory"): ["add", "change", "view"],
    ("catalogue", "source"): ["add", "change", "view"],
    # Vocabularies chosen in the forms (autocompletion needs the view permission).
    ("catalogue", "placekind"): ["view"],
    ("catalogue", "service"): ["view"],
    ("catalogue", "indicator"): ["view"],
    ("casestudies", "casestudy"): ["add", "change", "delete", "view"],
    ("casestudies", "section"): ["add", "change", "delete", "view"],
}
# What a reviewer has on top: publishing (which also opens every record to them), the
# history of every record, and visitors' proposals.
REVIEWER = {
    ("catalogue", "place"): ["publish"],
    ("casestudies", "casestudy"): ["publish"],
    ("catalogue", "proposal"): ["view", "change"],
    **{
        (app, f"historical{model}"): ["view"]
        for app, model in [
            ("catalogue", "source"),
            ("catalogue", "organisation"),
            ("catalogue", "place"),
            ("catalogue", "figure"),
            ("catalogue", "funding"),
            ("catalogue", "lesson"),
            ("casestudies", "casestudy"),
            ("casestudies", "section"),
            ("casestudies", "comparisontable"),
        ]
    },
}
GROUPS = ["Contributeur", "Relecteur", "Administrateur"]


def permissions(Permission, spec):
    wanted = [
        (app, f"{action}_{model}") for (app, model), actions in spec.items() for action in actions
    ]
    found = []
    for app, codename in wanted:
        found.append(Permission.objects.get(content_type__app_label=app, codename=codename))
    return found


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        if app_config.label in [*APPS, "auth"]:
            # The migration state's app configs have no models module, which
            # create_permissions takes for "no models".
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    contributor_perms = permissions(Permission, CONTRIBUTOR)
    contributor, _ = Group.objects.get_or_create(name="Contributeur")
    contributor.permissions.set(contributor_perms)
    reviewer, _ = Group.objects.get_or_create(name="Relecteur")
    reviewer.permissions.set(contributor_perms + permissions(Permission, REVIEWER))
    administrator, _ = Group.objects.get_or_create(name="Administrateur")
    administrator.permissions.set(
        Permission.objects.filter(content_type__app_label__in=APPS)
        | Permission.objects.filter(
            content_type__app_label="auth", content_type__model__in=["user", "group"]
        )
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalogue", "0006_editorial_workflow_history"),
        ("casestudies", "0002_editorial_workflow_history_corpus_records"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
