"""The console's navigation: a registry each app adds its pages to.

The top bar lists the sections the runbook needs (``PLANNED``). A section shows as a link once
an app registers it and its URL resolves; until then it is shown disabled, "not available
yet", so nobody is sent to a page that does not exist. To add a page, call :func:`register`
from the owning app's ``AppConfig.ready()``::

    navigation.register("deployments", "Deployments", "deployment-list", order=20)

Registering a key again replaces the earlier entry (the incidents app will point
"incidents" at its own list instead of the home page).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

MAIN = "main"
TOOLS = "tools"


@dataclass(frozen=True)
class Entry:
    key: str
    label: str
    url_name: str
    order: int
    section: str = MAIN
    staff_only: bool = False
    permission: str | None = None


@dataclass(frozen=True)
class NavItem:
    """One link as the template shows it; ``url`` is empty when it is not available yet."""

    key: str
    label: str
    url: str
    section: str
    active: bool = False

    @property
    def available(self) -> bool:
        return bool(self.url)


# The runbook's sections, in the order the top bar shows them (key, label, order).
PLANNED: tuple[tuple[str, str, int], ...] = (
    ("incidents", "Incidents", 10),
    ("deployments", "Deployments", 20),
    ("oncall", "On-call", 30),
    ("runbooks", "Runbooks", 40),
    ("postmortems", "Post-mortems", 50),
    ("reports", "Reports", 60),
    ("status", "Status page", 70),
)

_entries: dict[str, Entry] = {}


def register(
    key: str,
    label: str,
    url_name: str,
    order: int,
    *,
    section: str = MAIN,
    staff_only: bool = False,
    permission: str | None = None,
) -> None:
    """Add (or replace) a link. ``staff_only`` and ``permission`` hide it from other users."""
    if section not in (MAIN, TOOLS):
        raise ValueError(f"section must be {MAIN!r} or {TOOLS!r}, not {section!r}")
    _entries[key] = Entry(key, label, url_name, order, section, staff_only, permission)


def unregister(key: str) -> None:
    _entries.pop(key, None)


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.key))


def _visible(entry: Entry, user) -> bool:  # noqa: ANN001 - any user object
    if entry.staff_only and not getattr(user, "is_staff", False):
        return False
    if entry.permission and not (user is not None and user.has_perm(entry.permission)):
        return False
    return True


def _url(url_name: str) -> str:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return ""


def nav_items(request: HttpRequest) -> list[NavItem]:
    """The links for this request's user, planned sections included, the current one active."""
    user = getattr(request, "user", None)
    items: list[tuple[int, NavItem]] = []
    registered = {e.key: e for e in entries()}
    for key, label, order in PLANNED:
        if key not in registered:
            items.append((order, NavItem(key, label, "", MAIN)))
    for entry in registered.values():
        if _visible(entry, user):
            url = _url(entry.url_name)
            items.append((entry.order, NavItem(entry.key, entry.label, url, entry.section)))
    items.sort(key=lambda pair: (pair[0], pair[1].key))
    return _mark_active([item for _, item in items], getattr(request, "path", ""))


def _mark_active(items: list[NavItem], path: str) -> list[NavItem]:
    # The longest URL that prefixes the path wins, so "/" is active only on the home page.
    best = None
    for item in items:
        if item.available and (path == item.url or (item.url != "/" and path.startswith(item.url))):
            if best is None or len(item.url) > len(best.url):
                best = item
    return [
        NavItem(i.key, i.label, i.url, i.section, active=True) if i is best else i for i in items
    ]


# What exists today. Incidents point at the home page until the incident list is built.
register("incidents", "Incidents", "home", 10)
register("services", "Services", "service-list", 80)
register("admin", "Admin", "admin:index", 900, section=TOOLS, staff_only=True)
register("api-docs", "API docs", "api-docs", 910, section=TOOLS)
