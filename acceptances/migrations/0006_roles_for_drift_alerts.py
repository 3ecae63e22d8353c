from django.db import migrations


def sync_roles(apps, schema_editor):
    # New models (ScanChange, ZoneWatch, DriftAlert): viewers read them, admins manage them.
    from cspm.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("acceptances", "0005_zone_watches_and_drift_alerts"),
        ("findings", "0003_scan_changes"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
