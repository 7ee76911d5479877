"""The command page's Deliveries panel: what the incident's outbox sent to every vendor."""
