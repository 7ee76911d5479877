"""Adaptive Cards the console posts to Teams. Building a card is apart from sending it.

A button is an ``Action.Submit`` whose ``data`` is ``{"action": <name>, "incident": <number>}``;
Teams sends it back to the bot as a message activity with that ``data`` as its ``value``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def summary_card(
    *,
    title: str,
    facts: Sequence[tuple[str, str]],
    link: str = "",
    actions: Sequence[tuple[str, str]] = (),
    incident: str = "",
) -> dict[str, Any]:
    """The incident's summary: a heading, facts, a link, and buttons (``(label, action)``)."""
    card_actions: list[dict[str, Any]] = [
        {"type": "Action.Submit", "title": label, "data": {"action": name, "incident": incident}}
        for label, name in actions
    ]
    if link:
        card_actions.append({"type": "Action.OpenUrl", "title": "Open in NexusOps", "url": link})
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium"},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts]},
        ],
        "actions": card_actions,
    }


def text_card(text: str) -> dict[str, Any]:
    """A card holding one Markdown text block (Adaptive Cards' TextBlock subset)."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }


KEY_ELEMENT = "nexusops-key"


def with_key(card: dict[str, Any], key: str) -> dict[str, Any]:
    """The card with ``key`` in a hidden element, so a retry can find this post again."""
    hidden = {"type": "TextBlock", "id": KEY_ELEMENT, "text": key, "isVisible": False}
    return {**card, "body": [*card.get("body", []), hidden]}


def card_key(content: Any) -> str | None:
    """The key :func:`with_key` put in a card (a dict, or its JSON as Graph returns it)."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    if not isinstance(content, dict):
        return None
    for element in content.get("body") or []:
        if isinstance(element, dict) and element.get("id") == KEY_ELEMENT:
            return str(element.get("text") or "")
    return None


def submitted(value: Any) -> tuple[str, str] | None:
    """``(action, incident number)`` of a pressed button's ``value``, or None if it is not ours."""
    if not isinstance(value, dict):
        return None
    action, incident = value.get("action"), value.get("incident")
    if isinstance(action, str) and isinstance(incident, str) and action and incident:
        return action, incident
    return None
