from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from nexusops.common import demo, roles


class Command(BaseCommand):
    help = "Load the runbook's reference data and the demo users (embedded/demo mode only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo refuses to run in production mode: it creates users with a known "
                "password. Load reference data with `manage.py seed_reference` instead."
            )
        with transaction.atomic():
            roles.roles_sync()
            for seeder in demo.seeders():
                seeder.fn(lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
