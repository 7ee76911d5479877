# Adopts the tables incidents created (incidents_rotation, incidents_rotationmember,
# incidents_rotationoverride, incidents_paypolicy, incidents_escalationpolicy,
# incidents_escalationtier and its severities table): state only, no data moves.

import datetime
import django.core.validators
import django.db.models.deletion
import incidents.models.people
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('incidents', '0018_oncall_models_move_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='PayPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(default='default', max_length=60, unique=True)),
                        ('weekly_stipend', models.DecimalField(decimal_places=2, default=Decimal('500.00'), max_digits=8, validators=[django.core.validators.MinValueValidator(0)])),
                        ('incident_multiplier', models.DecimalField(decimal_places=2, default=Decimal('1.50'), max_digits=4, validators=[django.core.validators.MinValueValidator(0)])),
                        ('night_starts', models.TimeField(default=datetime.time(22, 0))),
                        ('night_ends', models.TimeField(default=datetime.time(6, 0))),
                        ('currency', models.CharField(default='USD', max_length=3)),
                    ],
                    options={
                        'verbose_name_plural': 'pay policies',
                        'db_table': 'incidents_paypolicy',
                        'constraints': [models.CheckConstraint(condition=models.Q(('incident_multiplier__gte', 0), ('weekly_stipend__gte', 0)), name='pay_policy_not_negative')],
                    },
                ),
                migrations.CreateModel(
                    name='Rotation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('time_zone', models.CharField(default='America/Los_Angeles', max_length=64, validators=[incidents.models.people.validate_time_zone])),
                        ('handoff_weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], default=4)),
                        ('handoff_time', models.TimeField(default=datetime.time(9, 0))),
                        ('start_date', models.DateField(help_text='The first shift starts this day at the handoff time.')),
                        ('reminder_before', models.DurationField(default=datetime.timedelta(days=1), help_text='Remind the next person this long before.')),
                        ('slack_channel', models.CharField(blank=True, help_text='Where handoff notes are posted (channel id).', max_length=80)),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'incidents_rotation',
                        'ordering': ['name'],
                        'permissions': [('manage_oncall', 'Can change rotations and approve overrides'), ('view_pay_report', 'Can see the on-call pay report')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('handoff_weekday__gte', 0), ('handoff_weekday__lte', 6)), name='rotation_weekday_range')],
                    },
                ),
                migrations.CreateModel(
                    name='EscalationPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('description', models.TextField(blank=True)),
                        ('active', models.BooleanField(default=True, help_text='The one active policy applies to every incident.')),
                        ('repage_on_ack_breach', models.BooleanField(default=True, help_text="Not acknowledged within the severity's response time: page the on-call engineer again, then the next tier after the grace period.")),
                        ('ack_breach_grace', models.DurationField(default=datetime.timedelta(seconds=300), help_text='After a re-page, how long before the next tier is pulled in.')),
                        ('rotation', models.ForeignKey(blank=True, help_text='Whose on-call engineer the on-call tiers page; empty: the first active one.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='oncall.rotation')),
                    ],
                    options={
                        'verbose_name_plural': 'escalation policies',
                        'db_table': 'incidents_escalationpolicy',
                    },
                ),
                migrations.CreateModel(
                    name='RotationMember',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField()),
                        ('rotation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='oncall.rotation')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rotation_memberships', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'incidents_rotationmember',
                        'ordering': ['rotation', 'position'],
                    },
                ),
                migrations.CreateModel(
                    name='RotationOverride',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('starts_at', models.DateTimeField()),
                        ('ends_at', models.DateTimeField()),
                        ('kind', models.CharField(choices=[('cover', 'Cover'), ('swap', 'Swap')], default='cover', max_length=10)),
                        ('reason', models.CharField(blank=True, max_length=200)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('replaces', models.ForeignKey(blank=True, help_text='Who the rotation had on call (for the record).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('rotation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='overrides', to='oncall.rotation')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='oncall_overrides', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'incidents_rotationoverride',
                        'ordering': ['rotation', 'starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='EscalationTier',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('order', models.PositiveSmallIntegerField(help_text='1 is the first tier.')),
                        ('name', models.CharField(max_length=100)),
                        ('target', models.CharField(choices=[('on_call', 'Whoever is on call'), ('org_role', 'Everyone with an organisational role'), ('user', 'A named person')], max_length=20)),
                        ('org_role', models.CharField(blank=True, choices=[('engineer', 'On-call engineer'), ('engineering_manager', 'Engineering manager'), ('cto', 'CTO'), ('vp_engineering', 'VP Engineering'), ('ceo', 'CEO')], max_length=32)),
                        ('delay', models.DurationField(blank=True, help_text='Due this long after detection if still unresolved; empty: only on a flag.', null=True)),
                        ('on_data_breach', models.BooleanField(default=False, help_text='At once when data_breach.')),
                        ('on_major_customer_impact', models.BooleanField(default=False, help_text='At once when major_customer_impact.')),
                        ('policy', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tiers', to='oncall.escalationpolicy')),
                        ('severities', models.ManyToManyField(blank=True, help_text='The delay applies to these severities (none: all).', to='incidents.severity')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'incidents_escalationtier',
                        'ordering': ['policy', 'order'],
                        'constraints': [models.UniqueConstraint(fields=('policy', 'order'), name='escalation_tier_order'), models.CheckConstraint(condition=models.Q(('delay__isnull', True), ('delay__gte', datetime.timedelta(0)), _connector='OR'), name='escalation_tier_delay_not_negative'), models.CheckConstraint(condition=models.Q(('target', 'on_call'), models.Q(('target', 'org_role'), models.Q(('org_role', ''), _negated=True)), models.Q(('target', 'user'), ('user__isnull', False)), _connector='OR'), name='escalation_tier_has_target'), models.CheckConstraint(condition=models.Q(('delay__isnull', False), ('on_data_breach', True), ('on_major_customer_impact', True), _connector='OR'), name='escalation_tier_has_condition')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='escalationpolicy',
                    constraint=models.UniqueConstraint(condition=models.Q(('active', True)), fields=('active',), name='escalation_one_active_policy'),
                ),
                migrations.AddConstraint(
                    model_name='escalationpolicy',
                    constraint=models.CheckConstraint(condition=models.Q(('ack_breach_grace__gte', datetime.timedelta(0))), name='escalation_grace_not_negative'),
                ),
                migrations.AddConstraint(
                    model_name='rotationmember',
                    constraint=models.UniqueConstraint(fields=('rotation', 'position'), name='rotation_member_pos'),
                ),
                migrations.AddConstraint(
                    model_name='rotationmember',
                    constraint=models.UniqueConstraint(fields=('rotation', 'user'), name='rotation_member_once'),
                ),
                migrations.AddIndex(
                    model_name='rotationoverride',
                    index=models.Index(fields=['rotation', 'starts_at'], name='override_rotation_start'),
                ),
                migrations.AddConstraint(
                    model_name='rotationoverride',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='override_ends_after_start'),
                ),
            ],
        ),
    ]
