"""Rows a timer batch appends, held in memory and written set-wise when its handlers are done.

A batch of the sweep fires up to 25 timers in one transaction (``timers``). Each escalation
firing appends the same few rows: an outbox message or two, a timeline entry, the incident's
last-event pointer, a responder. Written one at a time that is five statements per firing,
and each ORM statement costs far more Python than the row itself. Held, the batch writes one
``INSERT`` per table and one ``UPDATE … FROM (VALUES …)`` per pointer, whatever its size.

Who holds: the sweep, around the handlers of a timer kind marked ``batch_writes`` (its app's
``TIMERS`` table), on PostgreSQL only (ids come from the tables' sequences). Anywhere else
``holding()`` is ``None`` and every service writes at once, as it always did.

Who uses it: the services that append (``outbox_enqueue``, ``timeline_append``,
``responders_add``) ask ``holding(Model)`` and, inside a scope, give their row an id from
the table's own sequence now (``pk``), so what they return is whole (an ``Enqueued`` message
with its id, a timeline entry a typed event can carry) and only the ``INSERT`` waits.

The contract a handler accepts by being marked: nothing in its batch reads back, from the
database, a row it appended (the rows are in memory; ``written_here`` finds the outbox's).
A held outbox message must be new: if its key turns out taken when the batch writes, the
write raises ``RowTaken``, the batch rolls back and the sweep fires its timers one by one,
where ``outbox_enqueue`` returns the earlier row as ever. Nothing is lost or doubled either
way: the rows are written in the batch's transaction or not at all, and the dispatches a
message registered run only after that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.db import connections, models, router
from django.db.models.constants import OnConflict

F = TypeVar("F", bound=Callable[..., Any])


class RowTaken(Exception):
    """A held row that had to be new found its unique key taken (by an earlier firing)."""


class HeldRows:
    """The rows of one batch, in the order they were appended, per table."""

    def __init__(self, using: str, expected: int) -> None:
        self.using = using
        # Ids are taken from a sequence in blocks: twice the batch's firings, then as needed.
        self.block = max(8, 2 * expected)
        self._ids: dict[type[models.Model], list[int]] = {}
        self._rows: dict[type[models.Model], list[models.Model]] = {}
        self._new: dict[type[models.Model], str] = {}  # table → its unique field
        self._links: dict[type[models.Model], dict[tuple, models.Model]] = {}
        self._sets: dict[tuple[type[models.Model], str], dict[Any, Any]] = {}

    def pk(self, model: type[models.Model]) -> int:
        """An id for a row of ``model``, from its sequence, as an insert would take it."""
        ids = self._ids.setdefault(model, [])
        if not ids:
            meta = model._meta
            with connections[self.using].cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, self.block],
                )
                ids.extend(row[0] for row in reversed(cursor.fetchall()))
        return ids.pop()

    def insert(self, row: models.Model, *, new_by: str = "") -> None:
        """Insert ``row`` with the batch (its id is given here if it has none). With
        ``new_by`` (a unique field), a row whose key is taken makes ``write`` raise
        ``RowTaken`` instead of being skipped or failing at the index."""
        model = type(row)
        if row.pk is None:
            row.pk = self.pk(model)
        if new_by:
            self._new[model] = new_by
        self._rows.setdefault(model, []).append(row)
        row._state.adding, row._state.db = False, self.using

    def link(self, row: models.Model, *key: Any) -> None:
        """Insert a many-to-many ``through`` row with the batch unless it exists, as
        ``add()`` does (``ON CONFLICT DO NOTHING``); ``key`` is its unique pair."""
        self._links.setdefault(type(row), {}).setdefault(key, row)

    def set(self, model: type[models.Model], pk: Any, field: str, value: Any) -> None:
        """``UPDATE model SET field = value WHERE pk = pk`` with the batch (the last wins)."""
        self._sets.setdefault((model, field), {})[pk] = value

    def write(self) -> None:
        """Everything held, one statement per table and per pointer, in the order held."""
        for model, rows in self._rows.items():
            self._insert(model, rows)
        for model, links in self._links.items():
            self._insert(model, list(links.values()), ignore=True)
        for (model, field), values in self._sets.items():
            self._update(model, field, values)
        self._rows, self._links, self._sets = {}, {}, {}

    def _insert(
        self, model: type[models.Model], rows: list[models.Model], ignore: bool = False
    ) -> None:
        meta = model._meta
        connection = connections[self.using]
        fields = [f for f in meta.local_concrete_fields if not (ignore and f.primary_key)]
        unique = self._new.get(model)
        size = connection.ops.bulk_batch_size(fields, rows) or len(rows)
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            # Django's own insert compiler, as ``save()`` and ``bulk_create`` use it, so
            # every field is prepared the same way (``pre_save``, JSON, time zones).
            written = model._base_manager._insert(  # type: ignore[attr-defined]
                chunk,
                fields=fields,
                returning_fields=[meta.pk] if unique else None,
                using=self.using,
                on_conflict=OnConflict.IGNORE if unique or ignore else None,
            )
            if unique and sum(1 for r in written if r is not None) != len(chunk):
                taken = {r[0] for r in written if r is not None}
                keys = [getattr(row, unique) for row in chunk if row.pk not in taken]
                raise RowTaken(f"{meta.label}: {unique} taken: {', '.join(map(str, keys))}")

    def _update(self, model: type[models.Model], name: str, values: dict[Any, Any]) -> None:
        meta = model._meta
        connection = connections[self.using]
        field, pk = cast(models.Field, meta.get_field(name)), cast(models.Field, meta.pk)
        qn = connection.ops.quote_name
        # Typed, so PostgreSQL need not guess the VALUES' column types.
        pair = f"(%s::{pk.db_type(connection)}, %s::{field.db_type(connection)})"
        pairs = ", ".join(pair for _ in values)
        params: list[Any] = []
        for key, value in values.items():
            params += [key, field.get_db_prep_save(value, connection)]
        table = qn(meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {qn(field.column)} = v.value FROM (VALUES {pairs}) "
                f"AS v(id, value) WHERE {table}.{qn(pk.column)} = v.id",
                params,
            )


_held: ContextVar[HeldRows | None] = ContextVar("engine_held_rows", default=None)


def holding(model: type[models.Model]) -> HeldRows | None:
    """The open scope, if rows of ``model`` may be held in it; else ``None`` (write now)."""
    held = _held.get()
    if held is None or router.db_for_write(model) != held.using:
        return None
    return held


@contextmanager
def held_rows(held: HeldRows | None) -> Iterator[None]:
    """Inside, ``holding`` returns ``held`` (``None``: nothing is held)."""
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)


def batch_writes(handler: F) -> F:
    """Mark a timer handler whose appended rows may be held for its batch (module docstring):
    nothing in the batch reads them back from the database."""
    handler.batch_writes = True  # type: ignore[attr-defined]
    return handler


def holds_rows(handler: Callable[..., Any]) -> bool:
    return bool(getattr(handler, "batch_writes", False))
