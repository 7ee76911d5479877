"""Group commit for the webhook INSERTs: one write at a time per process, by a request thread.

Requests that arrive while a write is in flight join the next batch; when the write ends, the
first request of that batch writes it, for all of them, in one ``INSERT ... ON CONFLICT DO
NOTHING`` (one statement in autocommit: one round trip and one commit for the lot), and wakes
the others with one event. A request alone writes its own rows at once, on its own thread: no
hand-off to another thread and back (that was a quarter of a webhook's CPU when the rows went
through a writer thread). A request answers 202 only when its rows are committed, and an error
the write met reaches every request whose rows were in it, so nobody answers 202 for a row that
did not commit.

The writes go through one connection per process (a ``DatabaseWrapper`` of its own, shared by
whichever thread writes, one at a time), not the request threads' connections: the request
threads make no query on the hot path (the integration is cached), so they need no connection
and no per-request health check (``CONN_HEALTH_CHECKS``). The write checks its connection the
cheap way: a statement that fails on a broken connection is retried once on a fresh one, which
is safe because a replayed row is dropped by the unique ``(source, event_key)``.

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

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from nexusops.common.errors import has_sqlstate

logger = logging.getLogger(__name__)

# A request gives up waiting after this long (a write is stuck on a lock or a dead server); it
# answers 503, and if its rows commit later the sender's retry is dropped as a replay.
WAIT_SECONDS = 30.0
# The write connection is closed after this long without work (a test database can then be
# dropped, and an idle process holds no backend).
IDLE_CLOSE_SECONDS = 30.0
# The request about to write a batch, while other requests of this process are in flight (past
# ``arrive``, not in the batch), waits up to this long for them to join it: one commit for
# several requests instead of one each. A request alone never waits. In flight rather than
# "about to submit": a thread that just answered is usually back with the next request of its
# keep-alive connection within the window (in process, 4 threads: 3.9 requests a commit
# against 2.5, and 0.38 against 0.41 ms of CPU a request, PostgreSQL's included).
GATHER_SECONDS = 0.002
# At most this many rows in one INSERT (7 parameters each on SQLite: under its 32,766); a
# request carries at most 1,000 (``parsing.MAX_ALERTS``).
MAX_BATCH_ROWS = 4000
# SQLSTATE query_canceled: the web server's statement limit, a lock it waited behind. The
# connection is fine, and writing again would only wait out the limit again.
QUERY_CANCELED = ("57014",)

# Writes the rows of one or more requests in one INSERT on the connection it is given.
Write = Callable[[Sequence[list], BaseDatabaseWrapper], None]


class _Batch:
    """The requests that are written together. Its first request writes it (``turn`` tells it
    when the write before has ended); the others wait for ``done``."""

    __slots__ = ("done", "errors", "requests", "rows", "turn")

    def __init__(self) -> None:
        self.requests: list[list] = []  # each request's rows
        self.rows = 0
        self.turn = threading.Event()
        self.done = threading.Event()
        self.errors: list[BaseException | None] = []  # each request's outcome, once done


class GroupCommit:
    """Rows from many requests, written together. ``write`` runs one INSERT of the rows it is
    given on the connection it is given; ``after`` runs once per committed batch (it queues
    processing), after the batch's requests have been answered."""

    def __init__(self, write: Write, after: Callable[[], object] = lambda: None) -> None:
        self._write = write
        self._after = after
        self.batches = 0  # committed batches, for tests and the bench
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # In a forked child nothing of the parent's is in flight: start empty, connect anew.
        self._mutex = threading.Lock()
        self._waiting: list[_Batch] = []  # not yet being written, oldest first
        self._writing = False  # a thread is writing (or closing the connection)
        self._busy = 0  # requests between ``arrive`` and ``leave``
        self._gathering: _Batch | None = None  # the batch whose first waits for the others
        self._joined = threading.Condition(self._mutex)
        self._db: BaseDatabaseWrapper | None = None
        self._last_write = time.monotonic()
        self._janitor: threading.Thread | None = None
        self._stopped = threading.Event()

    def arrive(self) -> None:
        """A request that may submit rows soon (a webhook past its method check)."""
        with self._mutex:
            self._busy += 1

    def leave(self) -> None:
        """That request has answered (whether it submitted or not)."""
        with self._mutex:
            self._busy -= 1
            self._notify_gatherer()

    def submit(self, rows: list) -> None:
        """Block until ``rows`` are committed; raise the database's error if they were not."""
        with self._mutex:
            batch = self._waiting[-1] if self._waiting else None
            if batch is None or (batch.requests and batch.rows + len(rows) > MAX_BATCH_ROWS):
                batch = _Batch()
                self._waiting.append(batch)
            index = len(batch.requests)
            batch.requests.append(rows)
            batch.rows += len(rows)
            lead_now = index == 0 and not self._writing
            if lead_now:  # nobody writes: this new batch is the only one waiting
                self._writing = True
            elif index:
                self._notify_gatherer()
        if index == 0:
            if not lead_now and not batch.turn.wait(WAIT_SECONDS) and self._give_up(batch):
                raise _timeout()
            self._lead(batch)
        elif not batch.done.wait(WAIT_SECONDS):
            raise _timeout()
        error = batch.errors[index]
        if error is not None:
            raise error

    def _all_joined(self) -> bool:
        batch = self._gathering
        return batch is None or len(batch.requests) >= self._busy

    def _notify_gatherer(self) -> None:
        if self._gathering is not None and self._all_joined():
            self._joined.notify()

    def stop(self) -> None:
        """Wait for the write in flight, close the write connection and end the janitor."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with self._mutex:
                if not self._writing:
                    self._writing = True
                    break
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        try:
            self._stopped.set()
            if self._db is not None:
                self._db.close()
            janitor, self._janitor = self._janitor, None
            if janitor is not None and janitor is not threading.current_thread():
                janitor.join(timeout=WAIT_SECONDS)
            self._stopped = threading.Event()
        finally:
            self._release()

    # --- writing ------------------------------------------------------------------------
    def _give_up(self, batch: _Batch) -> bool:
        """The write before ours did not end in time. True (and every request of ``batch``
        fails) if it is still waiting; False if its turn came meanwhile: write it after all."""
        with self._mutex:
            if batch.turn.is_set():
                return False
            self._waiting.remove(batch)
        self._answer(batch, [_timeout()] * len(batch.requests))
        return True

    def _lead(self, batch: _Batch) -> None:
        """Write ``batch`` (this thread holds the write), answer it, hand the write on."""
        with self._mutex:
            if self._busy > len(batch.requests):  # others are on their way: let them join
                self._gathering = batch
                self._joined.wait_for(self._all_joined, GATHER_SECONDS)
                self._gathering = None
            self._waiting.remove(batch)  # the oldest: from now on requests join the next one
        try:
            errors = self._commit(batch.requests)
        except BaseException as exc:  # every waiter must hear, whatever it was
            self._answer(batch, [exc] * len(batch.requests))
            self._release()
            raise
        self._answer(batch, errors)
        self._release()
        if any(e is None for e in errors):
            self.batches += 1
            try:
                self._after()
            except Exception:  # noqa: BLE001 - the rows are committed; the sweep picks them up
                logger.exception("alert writer: queuing processing failed")

    def _release(self) -> None:
        """Hand the write to the oldest waiting batch, or leave it free."""
        self._last_write = time.monotonic()
        with self._mutex:
            if self._waiting:
                self._waiting[0].turn.set()  # still "writing": its first request goes on
            else:
                self._writing = False

    @staticmethod
    def _answer(batch: _Batch, errors: list[BaseException | None]) -> None:
        batch.errors = errors
        batch.done.set()

    def _commit(self, requests: list[list]) -> list[BaseException | None]:
        """Each request's outcome: all at once, or one by one if the database refused one."""
        try:
            self._write_retrying(requests)
        except (OperationalError, InterfaceError) as exc:
            return [exc] * len(requests)  # the database is not there: nobody's rows are in
        except DatabaseError as exc:
            if len(requests) == 1:
                return [exc]
            logger.warning(
                "alert writer: a batch of %d failed (%s); one by one", len(requests), exc
            )
            return [self._commit([rows])[0] for rows in requests]
        return [None] * len(requests)

    def _connection(self) -> BaseDatabaseWrapper:
        if self._db is None:
            # Not the thread's own connection: any request thread may write, one at a time.
            self._db = connections.create_connection("default")
            self._db.inc_thread_sharing()
        if self._janitor is None:
            self._janitor = threading.Thread(target=self._idle_close, name="alert-writer-idle")
            self._janitor.daemon = True
            self._janitor.start()
        return self._db

    def _write_retrying(self, rows: Sequence[list]) -> None:
        db = self._connection()
        reused = db.connection is not None
        try:
            self._write(rows, db)
        except (OperationalError, InterfaceError) as exc:
            db.close()
            if not reused or has_sqlstate(exc, QUERY_CANCELED):
                raise
            # The connection went stale while idle (a database restart): once more, fresh.
            # Safe even if the first attempt committed: the rows come back as replays.
            self._write(rows, db)
        except DatabaseError:
            if db.connection is not None and not db.is_usable():
                db.close()
            raise

    def _idle_close(self) -> None:
        """Close the write connection once it has been idle ``IDLE_CLOSE_SECONDS``."""
        stopped = self._stopped
        while not stopped.wait(IDLE_CLOSE_SECONDS / 2):
            if time.monotonic() - self._last_write < IDLE_CLOSE_SECONDS:
                continue
            with self._mutex:
                if self._writing or self._db is None or self._db.connection is None:
                    continue
                self._writing = True
            try:
                self._db.close()
            finally:
                self._release()


def _timeout() -> OperationalError:
    return OperationalError(f"the alert writer did not answer within {WAIT_SECONDS:.0f} s")
