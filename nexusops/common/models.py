from django.db import models


class WorkerHeartbeat(models.Model):
    """A row a worker writes when it runs ``heartbeat_record``: proof the broker path works."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.hostname or 'worker'} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
