# Adopts the tables incidents created (incidents_timer, incidents_outboxmessage,
# incidents_inbounddelivery): state only, no data moves.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("incidents", "0008_engine_models_move_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="InboundDelivery",
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
                        ("source", models.CharField(max_length=30)),
                        ("event_id", models.CharField(max_length=200)),
                        ("received_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "incidents_inbounddelivery",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("source", "event_id"), name="inbound_unique_event"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
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
                        ("key", models.CharField(max_length=200, unique=True)),
                        (
                            "target",
                            models.CharField(
                                help_text="Sender name, e.g. slack.post.", max_length=60
                            ),
                        ),
                        ("payload", models.JSONField(default=dict)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("retrying", "Retrying"),
                                    ("sent", "Sent"),
                                    ("dead", "Dead"),
                                    ("skipped", "Skipped"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField()),
                        (
                            "claimed_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When the current attempt started (its lease).",
                                null=True,
                            ),
                        ),
                        ("last_error", models.TextField(blank=True)),
                        ("result", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField()),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "incident",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="outbox",
                                to="incidents.incident",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "incidents_outboxmessage",
                        "ordering": ["created_at", "id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(
                                    ("state__in", ["pending", "retrying", "sending"])
                                ),
                                fields=["next_attempt_at"],
                                name="outbox_due",
                            ),
                            models.Index(fields=["incident", "created_at"], name="outbox_incident"),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("sent_at__isnull", False), ("state", "sent")),
                                    models.Q(("state", "sent"), _negated=True),
                                    _connector="OR",
                                ),
                                name="outbox_sent_has_time",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Timer",
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
                        ("kind", models.CharField(max_length=40)),
                        ("due_at", models.DateTimeField()),
                        ("fired_at", models.DateTimeField(blank=True, null=True)),
                        ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "incident",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="timers",
                                to="incidents.incident",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "incidents_timer",
                        "ordering": ["due_at", "id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(
                                    ("cancelled_at__isnull", True), ("fired_at__isnull", True)
                                ),
                                fields=["due_at"],
                                name="timer_pending_due",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("fired_at__isnull", True),
                                    ("cancelled_at__isnull", True),
                                    _connector="OR",
                                ),
                                name="timer_fired_or_cancelled_not_both",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
