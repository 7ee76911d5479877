"""Paging: what incidents tell PagerDuty (the trigger, acknowledge, resolve, notes).

``render`` builds the Events API payload (no I/O); ``senders`` delivers one outbox row with the
PagerDuty adapter; ``fanout`` decides, for each incident event, which messages to enqueue.
What is said in chat lives in the ``chat`` app, one floor up.
"""
