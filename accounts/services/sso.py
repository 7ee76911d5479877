"""Provisioning from an identity provider's claims: accounts, roles, staleness.

The provider is the source of truth for the people it vouches for: an account is made at a
person's first sign-in, and at every sign-in their role groups are set to exactly the roles
their provider groups map to (``SSO_GROUP_ROLES``), so leaving a group at the provider takes
the role away the next time they sign in. Other Django groups and ``is_superuser`` are left
alone: they are the admin's.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction

from incidents.models import Profile
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError

from ..models import SsoIdentity

logger = logging.getLogger("nexusops.sso")


class AccountDisabled(ApplicationError):
    code = "account_disabled"
    status = 403


def group_roles(spec: str) -> dict[str, str]:
    """``"group=Role,group2=Role2"`` as a dict; a malformed pair raises ValueError."""
    mapping: dict[str, str] = {}
    for pair in (p.strip() for p in spec.split(",")):
        if not pair:
            continue
        group, sep, role = pair.partition("=")
        if not sep or not group.strip() or not role.strip():
            raise ValueError(f"{pair!r} is not group=Role")
        mapping[group.strip()] = role.strip()
    return mapping


def roles_for_groups(groups: list[str]) -> set[str]:
    mapping = group_roles(settings.SSO_GROUP_ROLES)
    return {mapping[g] for g in groups if g in mapping and mapping[g] in roles.ROLES}


def _claimed_groups(claims: dict, groups_claim: str) -> list[str]:
    value = claims.get(groups_claim, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return sorted({str(g) for g in value})


@dataclass
class SignIn:
    user: User
    created: bool
    roles_added: list[str] = field(default_factory=list)
    roles_removed: list[str] = field(default_factory=list)


def _free_username(claims: dict, provider: str) -> str:
    user_model = get_user_model()
    email = str(claims.get("email") or "")
    wanted = str(claims.get("preferred_username") or email.partition("@")[0] or "")
    base = re.sub(r"[^\w.@+-]", "", wanted)[:120] or f"{provider}-{str(claims['sub'])[:12]}"
    candidate, n = base, 1
    while user_model.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _existing_by_email(claims: dict, provider: str) -> User | None:
    """A local account to adopt: only on a verified e-mail matching exactly one active,
    non-superuser account that has no identity at this provider yet."""
    email = str(claims.get("email") or "").strip()
    if not email or claims.get("email_verified") is not True:
        return None
    matches = list(
        get_user_model()
        .objects.filter(email__iexact=email, is_active=True, is_superuser=False)
        .exclude(sso_identities__provider=provider)[:2]
    )
    return matches[0] if len(matches) == 1 else None


def sso_sign_in(*, provider: str, claims: dict, groups_claim: str = "groups") -> SignIn:
    """The account for verified ``claims`` from ``provider``, created or updated, with its
    roles set from the groups claim. Raises :class:`AccountDisabled` for a deactivated one."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ApplicationError("The identity provider did not say who you are (no sub claim).")
    groups = _claimed_groups(claims, groups_claim)
    try:
        result = _sign_in(provider, subject, claims, groups)
    except IntegrityError:
        # Two first sign-ins of one person at once (a double click, two tabs): the other one
        # made the identity (or took the username); this time it is found.
        result = _sign_in(provider, subject, claims, groups)
    logger.info(
        "sso: %s signed in via %s (%s); groups %s; roles %s",
        result.user.get_username(),
        provider,
        "new account" if result.created else "existing account",
        ", ".join(groups) or "none",
        ", ".join([f"+{r}" for r in result.roles_added] + [f"-{r}" for r in result.roles_removed])
        or "unchanged",
    )
    return result


def _sign_in(provider: str, subject: str, claims: dict, groups: list[str]) -> SignIn:
    wanted = roles_for_groups(groups)
    now = clock.now()
    with transaction.atomic():
        identity = (
            SsoIdentity.objects.select_for_update()
            .select_related("user")
            .filter(provider=provider, subject=subject)
            .first()
        )
        created = False
        if identity is None:
            user = _existing_by_email(claims, provider)
            if user is None:
                # No password: the provider vouches for them (create_user makes it unusable).
                user = get_user_model().objects.create_user(_free_username(claims, provider))
                created = True
            identity = SsoIdentity(user=user, provider=provider, subject=subject, first_seen_at=now)
        user = get_user_model().objects.select_for_update().get(pk=identity.user_id)
        if not user.is_active:
            raise AccountDisabled(
                "Your NexusOps account is deactivated. Ask a manager to reactivate it."
            )
        for attr, claim in (
            ("email", "email"),
            ("first_name", "given_name"),
            ("last_name", "family_name"),
        ):
            if claims.get(claim):
                setattr(user, attr, str(claims[claim])[:150])
        user.last_login = now
        user.save()
        current = set(user.groups.filter(name__in=roles.ROLES).values_list("name", flat=True))
        added, removed = sorted(wanted - current), sorted(current - wanted)
        if removed:
            user.groups.remove(*Group.objects.filter(name__in=removed))
        if added:
            user.groups.add(*Group.objects.filter(name__in=added))
        identity.email = str(claims.get("email") or "")[:254]
        identity.groups = groups
        identity.last_seen_at = now
        identity.save()
        Profile.objects.get_or_create(user=user)
        if created or _links_missing(user):
            from ..tasks import profile_links_fill_task

            transaction.on_commit(lambda: profile_links_fill_task.delay(user.pk))
    return SignIn(user=user, created=created, roles_added=added, roles_removed=removed)


def _links_missing(user: User) -> bool:
    profile = Profile.objects.filter(user=user).first()
    return profile is None or not profile.slack_user_id or not profile.pagerduty_user_id


def sso_accounts_deactivate_stale(*, days: int, dry_run: bool = False) -> list[str]:
    """Deactivate the accounts made or used through single sign-on that nobody has signed in
    to for ``days`` days. Superusers and accounts without an SSO identity are never touched.
    Returns the usernames (that were, or with ``dry_run`` would be, deactivated)."""
    if days < 1:
        raise ApplicationError("days must be at least 1.", fields={"days": ["at least 1"]})
    cutoff = clock.now() - dt.timedelta(days=days)
    user_model = get_user_model()
    ids = set(
        user_model.objects.filter(is_active=True, is_superuser=False, sso_identities__isnull=False)
        .exclude(sso_identities__last_seen_at__gte=cutoff)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        # Re-checked under the lock: a sign-in meanwhile keeps the account.
        stale = (
            user_model.objects.select_for_update()
            .filter(pk__in=ids, is_active=True)
            .exclude(sso_identities__last_seen_at__gte=cutoff)
            .order_by("pk")
        )
        locked = list(stale)
        names = sorted(u.get_username() for u in locked)
        if locked and not dry_run:
            user_model.objects.filter(pk__in=[u.pk for u in locked]).update(is_active=False)
    for name in names:
        logger.info(
            "sso: %s %s: no sign-in for %d days",
            name,
            "would be deactivated" if dry_run else "deactivated",
            days,
        )
    return names
