"""Microsoft Teams: Graph channels, Bot Connector messages and Adaptive Cards, inbound JWTs."""
