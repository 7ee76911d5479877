"""Keyset ("cursor") paging: a page starts after the last row the reader saw, not at an OFFSET.

An OFFSET makes the database walk every row before the page (page 1,000 of 50 reads 50,000
rows); a keyset page is an index range scan from the boundary row, the same cost at any
depth. The keys are the queryset's own ``order_by``, which must end with a unique column
(``id``, ``number``), so the order is total and no row is skipped or shown twice while rows
are added between two requests.

A cursor is opaque to its reader (URL-safe base64 of JSON): the sort it belongs to, the
boundary row's key values, the direction and the position of the page's first row (only a
label: "51–100"). A cursor that does not decode, or that belongs to another sort order,
raises ``InvalidCursor``; the caller answers 400 or starts from the first page.

How many rows match is counted only up to a bound (:func:`count_up_to`): a reader sees
"1,000+", which is honest, and the database stops after 1,001 rows instead of counting all.

To page a new queryset: order it by field names, ``"-field"`` or ``F(field).asc/desc(
nulls_last=True)`` (a nullable column must say so), ending with a unique one, and pass it to
:func:`page`. Keys of the same direction in a row are compared as one SQL row value,
``(a, b, c) < (x, y, z)``, which PostgreSQL answers with one index range scan when an index
has those columns in that order; an order that changes direction (or has a nullable key) is
read as a few such ranges one after the other (:func:`_ranges`), each an index range scan
where an index has the columns. Without such an index the database still sorts the rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Field, Model, OrderBy, Q, QuerySet, prefetch_related_objects
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

# How far a list counts: beyond it a reader sees "1,000+" and the count stays cheap.
COUNT_LIMIT = 1000


class InvalidCursor(ValueError):
    """The cursor is not one this list gave out (tampered, truncated, or for another sort)."""


@dataclass(frozen=True)
class Key:
    name: str  # a field path (``severity__rank``) or an annotation
    descending: bool
    nullable: bool  # NULLs sort last in the forward direction
    field: Field


@dataclass(frozen=True)
class Page:
    rows: list
    next: str | None  # cursor of the page after this one
    previous: str | None  # cursor of the page before this one
    start: int  # 0-based position of the first row, as carried by the cursor


def keys_of(queryset: QuerySet) -> list[Key]:
    """The queryset's ordering as keys; raises ``ValueError`` for an ordering keyset paging
    cannot follow (none, an expression other than a field, a nullable key without
    ``nulls_last``)."""
    ordering = queryset.query.order_by
    if not ordering:
        raise ValueError("keyset paging needs an explicit order_by ending with a unique key")
    keys = []
    for item in ordering:
        if isinstance(item, str):
            name, descending, nulls_last = item.lstrip("-"), item.startswith("-"), False
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            name, descending = item.expression.name, item.descending
            nulls_last = bool(item.nulls_last)
        else:
            raise ValueError(f"keyset paging cannot follow the ordering {item!r}")
        field = _field(queryset, name)
        if field.null and not nulls_last:
            raise ValueError(f"order by the nullable {name!r} with nulls_last=True")
        keys.append(Key(name=name, descending=descending, nullable=field.null, field=field))
    last = keys[-1].field
    if not (getattr(last, "primary_key", False) or getattr(last, "unique", False)):
        raise ValueError("keyset paging needs the order to end with a unique key (id)")
    return keys


def page(queryset: QuerySet, *, cursor: str | None, size: int) -> Page:
    """One page of ``queryset`` (ordered as :func:`keys_of` describes).

    After a cursor, rows are read one index range at a time, nearest first (see
    :func:`_ranges`), until the page is full: one query for the default order, at most one
    per key (and one more for a nullable key) for the others.
    """
    keys = keys_of(queryset)
    if not cursor:
        rows = list(queryset[: size + 1])
        return _forward(keys, rows, size, start=0, came_from_before=False)
    values, backward, start = decode(cursor, keys)
    if not backward:
        rows = _read(queryset, keys, values, reverse=False, limit=size + 1)
        return _forward(keys, rows, size, start=start, came_from_before=True)
    reversed_qs = queryset.order_by(*(_order(key, reverse=True) for key in keys))
    rows = _read(reversed_qs, keys, values, reverse=True, limit=size + 1)
    if len(rows) <= size:
        # Back at (or past) the first page: show a full first page rather than a stub.
        return page(queryset, cursor=None, size=size)
    rows = rows[:size][::-1]
    return Page(
        rows=rows,
        next=encode(keys, rows[-1], backward=False, start=start + len(rows)),
        previous=encode(keys, rows[0], backward=True, start=max(start - size, 0)),
        start=start,
    )


def count_up_to(queryset: QuerySet, limit: int) -> tuple[int, bool]:
    """(count, exact): the number of rows if at most ``limit``, else (``limit``, False)."""
    counted = queryset.order_by().values("pk")[: limit + 1].count()
    return (counted, True) if counted <= limit else (limit, False)


def count_page(queryset: QuerySet, found: Page, limit: int) -> tuple[int, bool]:
    """:func:`count_up_to`, without a query when the whole list is on ``found``."""
    if found.start == 0 and found.next is None and found.previous is None:
        return len(found.rows), True
    return count_up_to(queryset, limit)


def cursor_at(queryset: QuerySet, position: int) -> str | None:
    """A forward cursor to the page starting at ``position`` (an OFFSET read: for tools such
    as the benchmark, never for a reader's request)."""
    keys = keys_of(queryset)
    rows = list(queryset[position - 1 : position]) if position > 0 else []
    return encode(keys, rows[0], backward=False, start=position) if rows else None


# ---- cursors ------------------------------------------------------------------------------


def encode(keys: list[Key], row: Model, *, backward: bool, start: int) -> str:
    values = [_json_value(_value(row, key.name)) for key in keys]
    body = {"k": _signature(keys), "v": values, "b": int(backward), "s": start}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, keys: list[Key]) -> tuple[list[Any], bool, int]:
    """(boundary values, backward, start) of a cursor for this ordering."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
        signature, values, backward, start = body["k"], body["v"], body["b"], body["s"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidCursor("This cursor is not one this list gave out.") from None
    if signature != _signature(keys):
        raise InvalidCursor("This cursor belongs to another sort order; start without it.")
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursor("This cursor is not one this list gave out.")
    if backward not in (0, 1) or not isinstance(start, int) or start < 0:
        raise InvalidCursor("This cursor is not one this list gave out.")
    parsed = []
    for key, value in zip(keys, values, strict=True):
        if value is None:
            if not key.nullable:
                raise InvalidCursor("This cursor is not one this list gave out.")
            parsed.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidCursor("This cursor is not one this list gave out.")
        try:
            python = key.field.to_python(value)
        except ValidationError:
            raise InvalidCursor("This cursor is not one this list gave out.") from None
        if isinstance(python, dt.datetime) and python.tzinfo is None:
            raise InvalidCursor("This cursor is not one this list gave out.")
        parsed.append(python)
    return parsed, bool(backward), start


def _signature(keys: list[Key]) -> str:
    return ",".join(("-" if k.descending else "") + k.name for k in keys)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _value(row: Model, name: str) -> Any:
    value: Any = row
    for part in name.split("__"):
        value = getattr(value, part)
        if value is None:
            return None
    return value


def _field(queryset: QuerySet, name: str) -> Field:
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    model = queryset.model
    parts = name.split("__")
    try:
        for part in parts[:-1]:
            model = model._meta.get_field(part).related_model
        field = model._meta.get_field(parts[-1])
    except (FieldDoesNotExist, AttributeError):
        raise ValueError(f"keyset paging cannot follow {name!r}") from None
    return field


# ---- SQL ----------------------------------------------------------------------------------


def _forward(keys: list[Key], rows: list, size: int, *, start: int, came_from_before: bool) -> Page:
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        next=encode(keys, rows[-1], backward=False, start=start + size) if more else None,
        previous=(
            encode(keys, rows[0], backward=True, start=max(start - size, 0))
            if came_from_before and rows
            else None
        ),
        start=start,
    )


def _order(key: Key, *, reverse: bool) -> OrderBy:
    descending = key.descending != reverse
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expression = F(key.name)
    if not key.nullable:
        return expression.desc() if descending else expression.asc()
    return expression.desc(**nulls) if descending else expression.asc(**nulls)


def _runs(keys: list[Key], values: list) -> list[list[tuple[Key, Any]]]:
    """Keys grouped so each group is compared as one row value: consecutive non-nullable keys
    of one direction; a nullable key stands alone."""
    runs: list[list[tuple[Key, Any]]] = []
    for key, value in zip(keys, values, strict=True):
        last = runs[-1][-1][0] if runs else None
        if (
            last is not None
            and not key.nullable
            and not last.nullable
            and key.descending == last.descending
        ):
            runs[-1].append((key, value))
        else:
            runs.append([(key, value)])
    return runs


def _read(queryset: QuerySet, keys: list[Key], values: list, *, reverse: bool, limit: int) -> list:
    # Prefetch once for the whole page, not once per range read.
    lookups = queryset._prefetch_related_lookups
    bare = queryset.prefetch_related(None)
    rows: list = []
    for condition in _ranges(keys, values, reverse=reverse):
        rows += list(bare.filter(condition)[: limit - len(rows)])
        if len(rows) >= limit:
            break
    prefetch_related_objects(rows, *lookups)
    return rows


def _ranges(keys: list[Key], values: list, *, reverse: bool) -> list[Q]:
    """The rows after the boundary row, in the (possibly reversed) order, as disjoint index
    ranges, nearest first: ``prefix equal AND run beyond`` for the last run of keys, then the
    run before it, and so on. One ``OR`` of them all would be the same rows, but PostgreSQL
    cannot start an index scan at an ``OR``; it would read from the start of the index."""
    ranges: list[list[Q]] = []
    equal_so_far = Q()
    for run in _runs(keys, values):
        ranges.append([equal_so_far & part for part in _beyond(run, reverse=reverse)])
        equal_so_far &= _equal(run)
    return [condition for parts in reversed(ranges) for condition in parts]


def _beyond(run: list[tuple[Key, Any]], *, reverse: bool) -> list[Q]:
    """The rows beyond the run's boundary values, as ranges in traversal order."""
    key, value = run[0]
    descending = key.descending != reverse
    if len(run) > 1:
        lookup = TupleLessThan if descending else TupleGreaterThan
        return [Q(lookup(Tuple(*(F(k.name) for k, _ in run)), [v for _, v in run]))]
    operator = "lt" if descending else "gt"
    if not key.nullable:
        return [Q(**{f"{key.name}__{operator}": value})]
    # NULLs come last going forward, first going back.
    if value is None:
        return [Q(**{f"{key.name}__isnull": False})] if reverse else []
    beyond = Q(**{f"{key.name}__{operator}": value})
    return [beyond] if reverse else [beyond, Q(**{f"{key.name}__isnull": True})]


def _equal(run: list[tuple[Key, Any]]) -> Q:
    condition = Q()
    for key, value in run:
        condition &= Q(**{f"{key.name}__isnull": True} if value is None else {key.name: value})
    return condition
