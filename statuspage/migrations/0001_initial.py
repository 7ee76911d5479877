# Adopts the tables incidents created (incidents_component, incidents_publicupdate,
# incidents_subscriber): state only, no data moves.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import statuspage.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("incidents", "0014_status_page_models_move_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Subscriber",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("email", models.EmailField(max_length=254, unique=True)),
                        (
                            "token",
                            models.CharField(
                                default=statuspage.models._token, max_length=64, unique=True
                            ),
                        ),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "incidents_subscriber",
                    },
                ),
                migrations.CreateModel(
                    name="Component",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("description", models.CharField(blank=True, max_length=200)),
                        ("order", models.PositiveSmallIntegerField(default=0)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("operational", "Operational"),
                                    ("under_maintenance", "Under maintenance"),
                                    ("degraded_performance", "Degraded performance"),
                                    ("partial_outage", "Partial outage"),
                                    ("major_outage", "Major outage"),
                                ],
                                default="operational",
                                max_length=30,
                            ),
                        ),
                        (
                            "statuspage_id",
                            models.CharField(
                                blank=True,
                                help_text="The component's id on Atlassian Statuspage, if mirrored.",
                                max_length=40,
                            ),
                        ),
                        (
                            "service",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="component",
                                to="incidents.service",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "incidents_component",
                        "ordering": ["order", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="PublicUpdate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "stage",
                            models.CharField(
                                choices=[
                                    ("investigating", "Investigating"),
                                    ("identified", "Identified"),
                                    ("monitoring", "Monitoring"),
                                    ("resolved", "Resolved"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("title", models.CharField(max_length=200)),
                        ("message", models.TextField()),
                        ("component_statuses", models.JSONField(blank=True, default=dict)),
                        ("published_at", models.DateTimeField()),
                        (
                            "author",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "incident",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="public_updates",
                                to="incidents.incident",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "incidents_publicupdate",
                        "ordering": ["-published_at", "-id"],
                    },
                ),
            ],
        ),
    ]
