from django.core.management.base import BaseCommand
from django.db import transaction

from nexusops.common import demo, roles


class Command(BaseCommand):
    help = "Load the runbook's reference data (services, severities, ...). Safe in production."

    def handle(self, *args, **options):
        with transaction.atomic():
            roles.roles_sync()
            for seeder in demo.seeders():
                if seeder.demo_only:
                    continue
                seeder.fn(lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(self.style.SUCCESS("Reference data ready."))
