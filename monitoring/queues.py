"""Celery queue lengths, read from the broker: messages waiting that no worker has taken yet.

Redis: the lengths of the queue lists (kombu keeps one list per priority step; they are added
up), one pipelined round trip. The filesystem broker of embedded mode: the message files
waiting in its folder. A message a worker has taken but not yet acknowledged (late acks) is
in neither and is not counted. Other brokers (AMQP) are not read: no series.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

QUEUES = ("default", "notifications", "remediation")
# kombu's Redis transport: queue "q" at priority p > 0 is the list "q\x06\x16p".
_PRIORITY_STEPS = (0, 3, 6, 9)
_SEPARATOR = "\x06\x16"


class BrokerUnreadable(Exception):
    pass


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting per queue, or None for a broker this does not read."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        return _redis_lengths(url)
    if url.startswith("filesystem://"):
        return _folder_lengths(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    return None


def _redis_lengths(url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in QUEUES:
            for step in _PRIORITY_STEPS:
                pipe.llen(f"{queue}{_SEPARATOR}{step}" if step else queue)
        counts = pipe.execute()
    except redis.RedisError as exc:
        raise BrokerUnreadable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        client.close()
    steps = len(_PRIORITY_STEPS)
    return {q: sum(counts[i * steps : (i + 1) * steps]) for i, q in enumerate(QUEUES)}


def _folder_lengths(folder: Path) -> dict[str, int]:
    # kombu names each message file "<ms>_<uuid>.<queue>.msg".
    lengths = dict.fromkeys(QUEUES, 0)
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise BrokerUnreadable(f"{type(exc).__name__}: {exc}") from exc
    for name in names:
        queue = name.partition(".")[2].removesuffix(".msg")
        if queue in lengths and name.endswith(".msg"):
            lengths[queue] += 1
    return lengths
