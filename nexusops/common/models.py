from django.conf import settings
from django.db import models


class WorkerHeartbeat(models.Model):
    """A row a worker writes when it runs ``heartbeat_record``: proof the broker path works."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.hostname or 'worker'} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ChecklistEntry(models.Model):
    """One item of a checklist someone (or NexusOps itself) ticks: who did it, and when.

    An incident's runbook checklist and a deployment's gates are both this; each subclass adds
    its subject's foreign key, its ``key`` and its grouping (step or phase), and keeps its table.
    """

    label = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        abstract = True

    @property
    def done(self) -> bool:
        return self.done_at is not None
