"""Password sign-in, which production can switch off (``SSO_LOCAL_PASSWORDS=false``).

With it off only superusers may use a password: the break-glass account for when the identity
provider itself is down. Everyone else signs in through single sign-on.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


def local_passwords_enabled() -> bool:
    return bool(settings.SSO_LOCAL_PASSWORDS)


class LocalPasswordBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:  # noqa: ANN001
        if not super().user_can_authenticate(user):
            return False
        return local_passwords_enabled() or bool(getattr(user, "is_superuser", False))
