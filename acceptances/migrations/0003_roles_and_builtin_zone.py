from django.db import migrations


def create_roles(apps, schema_editor):
    from cspm.roles import sync_roles

    sync_roles(apps)


def create_builtin_zone(apps, schema_editor):
    Zone = apps.get_model("acceptances", "Zone")
    Zone.objects.get_or_create(
        is_builtin=True,
        defaults={
            "name": "Entire infrastructure",
            "description": "Every resource of every connected account.",
            "rules": {},
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("acceptances", "0002_initial"),
        ("findings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_builtin_zone, migrations.RunPython.noop),
    ]
