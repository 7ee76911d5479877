"""The Atom feed of public updates (``/status/feed.atom``)."""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from . import selectors
from .models import PublicUpdate


class PublicUpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = "NEXUS status"
    subtitle = "Public updates about incidents affecting NEXUS services."

    def link(self) -> str:
        return reverse("status-page")

    def items(self) -> list[PublicUpdate]:
        return selectors.feed_updates()

    def item_title(self, item: PublicUpdate) -> str:
        return f"{item.get_stage_display()}: {item.title}"

    def item_description(self, item: PublicUpdate) -> str:
        # Atom readers treat the summary as HTML: the update is plain text, so escape it.
        return linebreaksbr(item.message, autoescape=True)

    def item_link(self, item: PublicUpdate) -> str:
        return reverse("status-incident", args=[item.incident.number]) + f"#update-{item.pk}"

    def item_guid(self, item: PublicUpdate) -> str:
        return f"nexus-status:{item.incident.number}:update:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: PublicUpdate) -> dt.datetime:
        return item.published_at

    def item_updateddate(self, item: PublicUpdate) -> dt.datetime:
        return item.published_at
