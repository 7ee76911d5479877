"""``manage.py sso_deactivate_stale --days 90``: deactivate SSO accounts not seen for N days."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.services.sso import sso_accounts_deactivate_stale
from nexusops.common.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Deactivate accounts that sign in through single sign-on and have not for --days days. "
        "Superusers and password-only accounts (integrations) are never touched."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true", help="only list who would be")

    def handle(self, *args, days: int, dry_run: bool, **options) -> None:  # noqa: ANN002, ANN003
        try:
            names = sso_accounts_deactivate_stale(days=days, dry_run=dry_run)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        verb = "would deactivate" if dry_run else "deactivated"
        if not names:
            self.stdout.write(f"No SSO account unseen for {days} days; nothing {verb.split()[-1]}.")
            return
        self.stdout.write(f"{verb} {len(names)}: {', '.join(names)}")
