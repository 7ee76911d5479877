"""Group commit for the webhook INSERTs: one writer thread per process.

Each request hands its rows to the writer and waits; the writer takes every request waiting at
that moment, writes all their rows in one ``INSERT ... ON CONFLICT DO NOTHING`` (one statement
in autocommit: one round trip and one commit for the lot), then wakes each request with the
outcome. A request answers 202 only when its rows are committed, and an error the write met
reaches every request whose rows were in it, so nobody answers 202 for a row that did not
commit.

Why a thread of its own: the request threads then never touch the database on the hot path
(the integration is cached), so they need no connection and no per-request health check
(``CONN_HEALTH_CHECKS``). The writer checks its one connection the cheap way: a statement that
fails on a broken connection is retried once on a fresh one, which is safe because a replayed
row is dropped by the unique ``(source, event_key)``.

How a batch fails:

* the database is unreachable (``OperationalError`` / ``InterfaceError`` on a fresh
  connection): every request of the batch gets the error (the view answers 503);
* anything else (a row the database refuses, e.g. its integration was deleted meanwhile): the
  requests of the batch are written again one by one, so each gets its own outcome and one bad
  request does not fail its neighbours.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from django.db import DatabaseError, InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# A request gives up waiting after this long (the writer is stuck on a lock or a dead server);
# it answers 503, and if its rows commit later the sender's retry is dropped as a replay.
WAIT_SECONDS = 30.0
# The writer closes its connection after this long without work (a test database can then be
# dropped, and an idle process holds no backend).
IDLE_CLOSE_SECONDS = 30.0
# At most this many rows in one INSERT (7 parameters each: under SQLite's 32,766 and
# PostgreSQL's 65,535); a request carries at most 1,000 (``parsing.MAX_ALERTS``).
MAX_BATCH_ROWS = 4000

Write = Callable[[Sequence[list]], None]


class _Waiter:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: list) -> None:
        self.rows = rows  # the INSERT parameters of this request, one list per row
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit:
    """Rows from many requests, written together by one thread. ``write`` runs one INSERT of
    the rows it is given on the calling thread's connection; ``after`` runs once per
    committed batch (it queues processing)."""

    def __init__(self, write: Write, after: Callable[[], object] = lambda: None) -> None:
        self._write = write
        self._after = after
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Waiter] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = False
        self.batches = 0  # committed batches, for tests and the bench

    def submit(self, rows: list) -> None:
        """Block until ``rows`` are committed; raise the database's error if they were not."""
        waiter = _Waiter(rows)
        with self._cond:
            self._start_if_needed()
            self._queue.append(waiter)
            self._cond.notify()
        if not waiter.done.wait(WAIT_SECONDS):
            raise OperationalError(f"the alert writer did not answer within {WAIT_SECONDS:.0f} s")
        if waiter.error is not None:
            raise waiter.error

    def stop(self) -> None:
        """Finish what is queued, close the writer's connection and end its thread."""
        with self._cond:
            thread, self._stopping = self._thread, True
            self._cond.notify()
        if thread is not None and thread.is_alive():
            thread.join(timeout=WAIT_SECONDS)
        with self._cond:
            self._thread, self._stopping = None, False

    def _start_if_needed(self) -> None:
        # After a fork (gunicorn without --preload forks before this runs, but be sure) the
        # parent's thread does not exist in the child: start one of our own.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._queue = []
        self._thread = threading.Thread(target=self._run, name="alert-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        idle_since = time.monotonic()
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._stopping:
                        if connection.connection is not None and (
                            time.monotonic() - idle_since > IDLE_CLOSE_SECONDS
                        ):
                            connection.close()
                        self._cond.wait(IDLE_CLOSE_SECONDS)
                    batch = self._take()
                    if not batch and self._stopping:
                        return
                self._commit(batch)
                idle_since = time.monotonic()
        finally:
            connection.close()

    def _take(self) -> list[_Waiter]:
        rows, taken = 0, 0
        for waiter in self._queue:
            if taken and rows + len(waiter.rows) > MAX_BATCH_ROWS:
                break
            rows += len(waiter.rows)
            taken += 1
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    def _commit(self, batch: list[_Waiter]) -> None:
        try:
            self._write_retrying([w.rows for w in batch])
        except (OperationalError, InterfaceError) as exc:
            self._answer(batch, exc)  # the database is not there: nobody's rows are in
            return
        except DatabaseError as exc:
            if len(batch) == 1:
                self._answer(batch, exc)
                return
            logger.warning("alert writer: a batch of %d failed (%s); one by one", len(batch), exc)
            for waiter in batch:
                self._commit([waiter])
            return
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear, whatever it was
            self._answer(batch, exc)
            raise
        self.batches += 1
        self._answer(batch, None)
        try:
            self._after()
        except Exception:  # noqa: BLE001 - the rows are committed; the sweep picks them up
            logger.exception("alert writer: queuing processing failed")

    def _write_retrying(self, rows: Sequence[list]) -> None:
        reused = connection.connection is not None
        try:
            self._write(rows)
        except (OperationalError, InterfaceError):
            connection.close()
            if not reused:
                raise
            # The connection went stale while idle (a database restart): once more, fresh.
            # Safe even if the first attempt committed: the rows come back as replays.
            self._write(rows)
        except DatabaseError:
            if connection.connection is not None and not connection.is_usable():
                connection.close()
            raise

    @staticmethod
    def _answer(batch: list[_Waiter], error: BaseException | None) -> None:
        for waiter in batch:
            waiter.error = error
            waiter.done.set()
