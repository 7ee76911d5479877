"""Incident communications: what is said to Slack, PagerDuty and the status page, and when.

``render`` builds messages (no I/O); ``senders`` delivers one outbox row with an adapter;
``fanout`` decides, for each timeline event, which messages to enqueue. Wired up in
``IncidentsConfig.ready()``.
"""
