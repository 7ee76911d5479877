"""PagerDuty: paging by Events API v2 and notes by REST API v2 (``client``), and inbound v3
webhook verification and parsing (``webhooks``, no vendor library).
"""
