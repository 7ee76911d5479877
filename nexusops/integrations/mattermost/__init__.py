"""Mattermost (API v4) as a chat provider: ``client`` speaks HTTP, ``provider`` the interface."""
