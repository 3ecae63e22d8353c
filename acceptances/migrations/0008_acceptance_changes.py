import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def sync_roles(apps, schema_editor):
    # A new model (AcceptanceChange): viewers read it, admins manage it.
    from cspm.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('acceptances', '0007_zone_rules_version'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='acceptanceevent',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('proposed', 'Proposed'), ('approved', 'Approved'), ('edited', 'Edited'), ('extended', 'Extended or renewed'), ('revoked', 'Revoked'), ('expired', 'Expired'), ('reaccepted', 'Re-accepted'), ('stale', 'No longer needed'), ('change_proposed', 'Change proposed (awaiting approval)'), ('change_approved', 'Change approved'), ('change_rejected', 'Change rejected'), ('change_withdrawn', 'Change withdrawn')], max_length=20),
        ),
        migrations.CreateModel(
            name='AcceptanceChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('terms', models.JSONField(help_text='The proposed values: {"field": value, ...}.')),
                ('before', models.JSONField(blank=True, default=dict, help_text='The terms in force when it was proposed.')),
                ('renews', models.BooleanField(default=False, help_text='Proposed for an expired acceptance: approving renews it.')),
                ('note', models.TextField(blank=True)),
                ('proposed_at', models.DateTimeField()),
                ('state', models.CharField(choices=[('pending', 'Awaiting approval'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('withdrawn', 'Withdrawn')], default='pending', max_length=10)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_note', models.TextField(blank=True)),
                ('acceptance', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='proposed_changes', to='acceptances.riskacceptance')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('proposed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['acceptance', '-proposed_at', '-pk'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('state', 'pending')), fields=('acceptance',), name='acceptancechange_one_pending', violation_error_message='A change of this acceptance already awaits approval.'), models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'approved', 'rejected', 'withdrawn'])), name='acceptancechange_state_known'), models.CheckConstraint(condition=models.Q(('state', 'pending'), ('decided_at__isnull', False), _connector='OR'), name='acceptancechange_decided_has_time')],
            },
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]

