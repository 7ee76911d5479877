"""Atlassian Statuspage: the public status page (components, incidents, maintenances).

``client`` is the only module that talks to Statuspage; it uses ``requests``.
"""
