"""Slack: incident channels, messages, pins (``client``) and message builders (``messages``).

Import the client from ``nexusops.integrations.slack.client``, also for replies to an
interaction's ``response_url`` (``response_url_post``); it is the only module that
imports ``slack_sdk``. ``messages`` is safe to import anywhere.
"""
