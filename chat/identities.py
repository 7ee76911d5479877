"""Who each person is at a chat that keeps no id on the Profile (Mattermost, Teams).

Slack ids live on the Profile (``slack_people``). For the other chats a person's id is found by
e-mail the first time it is needed and kept in :class:`~chat.models.ChatIdentity`, one row per
person and chat; after that the row is used first, so an invite or an inbound request does
not ask the chat for the same e-mail again. When the chat says an id is unknown (an invite
refused ``user_not_found``), the e-mail is looked up again and the row refreshed.

These run in the outbox worker or an inbound request, outside any long transaction; each
write is one statement, and a concurrent writer of the same row simply wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from nexusops.common.services import actor_name
from nexusops.integrations.chat import ChatInvites, ChatProvider
from nexusops.integrations.chat.provider import USER_NOT_FOUND

from .models import ChatIdentity
from .slack_people import SlackPeople


def chat_identity_remember(*, user: AbstractBaseUser, provider: str, external_id: str) -> None:
    """Keep ``external_id`` as ``user``'s id at ``provider`` (an id now someone else's moves)."""
    try:
        with transaction.atomic():
            ChatIdentity.objects.filter(provider=provider, external_id=external_id).exclude(
                user=user
            ).delete()
            ChatIdentity.objects.update_or_create(
                user=user, provider=provider, defaults={"external_id": external_id}
            )
    except IntegrityError:
        pass  # a concurrent lookup stored it first; the next use reads theirs


def chat_identity_user(
    *, provider: str, external_id: str, email_of: Callable[[str], str | None]
) -> AbstractBaseUser | None:
    """The active console user behind a chat user id: the remembered row first, else the one
    active user with the e-mail ``email_of(external_id)`` gives (then remembered)."""
    if not external_id:
        return None
    row = (
        ChatIdentity.objects.select_related("user")
        .filter(provider=provider, external_id=external_id, user__is_active=True)
        .first()
    )
    if row is not None:
        return row.user
    email = email_of(external_id)
    if not email:
        return None
    matches = list(get_user_model().objects.filter(is_active=True, email__iexact=email)[:2])
    if len(matches) != 1:
        return None
    chat_identity_remember(user=matches[0], provider=provider, external_id=external_id)
    return matches[0]


def _by_email(person: AbstractBaseUser, provider: ChatProvider) -> tuple[str | None, str]:
    email = (person.email or "").strip()
    if not email:
        return None, "no e-mail"
    found = provider.user_for_email(email)
    if not found:
        return None, f"no {provider.label} user has the e-mail {email}"
    chat_identity_remember(user=person, provider=provider.name, external_id=found)
    return found, ""


def chat_people_resolve(
    *, people: Iterable[AbstractBaseUser], provider: ChatProvider
) -> tuple[SlackPeople, dict[str, AbstractBaseUser]]:
    """Each person's id at ``provider`` (remembered, else by e-mail), and who has each id."""
    everyone = list(people)
    known = dict(
        ChatIdentity.objects.filter(provider=provider.name, user__in=everyone).values_list(
            "user_id", "external_id"
        )
    )
    found, who = SlackPeople(), {}
    for person in everyone:
        external_id = known.get(person.pk)
        if external_id is None:
            external_id, why = _by_email(person, provider)
            if external_id is None:
                found.unlinked[actor_name(person)] = why
                continue
        found.ids[external_id] = actor_name(person)
        who[external_id] = person
    return found, who


def chat_people_invite(
    *, provider: ChatProvider, channel: str, people: Iterable[AbstractBaseUser]
) -> tuple[SlackPeople, ChatInvites]:
    """Invite people by their remembered ids; an id the chat says is unknown is looked up by
    e-mail again (the row refreshed) and that person invited under the new id."""
    found, who = chat_people_resolve(people=people, provider=provider)
    outcome = provider.invite(channel, list(found.ids))
    stale = [user_id for user_id, code in outcome.failed.items() if code == USER_NOT_FOUND]
    if not stale:
        return found, outcome
    failed = {u: c for u, c in outcome.failed.items() if u not in stale}
    retry: list[str] = []
    for old in stale:
        person = who[old]
        ChatIdentity.objects.filter(provider=provider.name, external_id=old).delete()
        new, why = _by_email(person, provider)
        del found.ids[old]
        if new is None or new == old:
            found.unlinked[actor_name(person)] = why or f"{provider.label} has no user {old}"
            continue
        found.ids[new] = actor_name(person)
        retry.append(new)
    again = provider.invite(channel, retry) if retry else ChatInvites()
    return found, ChatInvites(
        invited=outcome.invited + again.invited,
        already=outcome.already + again.already,
        failed={**failed, **again.failed},
    )
