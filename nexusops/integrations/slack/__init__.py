"""Slack: incident channels, messages, pins (``client``) and message builders (``messages``).

Import the client from ``nexusops.integrations.slack.client``; it is the only module that
imports ``slack_sdk``. ``messages`` is safe to import anywhere.
"""
