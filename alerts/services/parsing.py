"""What every webhook parser shares: ``ParsedAlert``, ``PayloadError``, JSON decoding and
small checked readers (strings, maps, numbers, times).

Turn a vendor's webhook body into ``ParsedAlert`` values, or refuse it with a reason.

Plain code on purpose (this is the hot path): no serializer, one pass, every string checked
for what PostgreSQL cannot store. Each parser takes the decoded JSON and returns a list; a
``PayloadError`` names the first problem and nothing is recorded.

The vendors' parsers are in ``parsers``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field

MAX_ALERTS = 1000
MAX_LABELS = 64
MAX_KEY = 100
MAX_VALUE = 2000
MAX_TEXT = 4000
# Absurd timestamps: before this, or more than a day ahead of now.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


class PayloadError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class ParsedAlert:
    fingerprint: str
    event_key: str
    status: str  # firing | resolved
    at: dt.datetime
    title: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    level_hint: str = ""  # critical | warning | "" (the sender's own opinion)
    metric: str = ""
    value: float | None = None
    url: str = ""

    def data(self) -> dict:
        return {
            "title": self.title,
            "labels": self.labels,
            "annotations": self.annotations,
            "level_hint": self.level_hint,
            "metric": self.metric,
            "value": self.value,
            "url": self.url,
        }


def decode(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("The body is not UTF-8.") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except PayloadError:
        raise
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"The body is not valid JSON: {str(exc)[:200]}") from None


def _no_constant(name: str) -> float:
    raise PayloadError(f"The body is not valid JSON: {name} is not a number.")


# --- small checked readers -------------------------------------------------------------------
def _obj(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be a JSON object.")
    return value


def _only(obj: dict, allowed: frozenset[str], where: str) -> None:
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        names = ", ".join(sorted(repr(k)[:60] for k in unknown)[:5])
        raise PayloadError(f"Unknown field(s) in {where}: {names}.")


def _text(value: object, where: str, *, limit: int = MAX_TEXT, required: bool = False) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{where} must be a string.")
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise PayloadError(f"{where} contains a NUL character.")
    if len(text) > limit:
        raise PayloadError(f"{where} is {len(text)} characters; the limit is {limit}.")
    if required and not text.strip():
        raise PayloadError(f"{where} is required.")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(f"{where} contains an unpaired surrogate.") from None
    return text


def _str_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    obj = _obj(value, where)
    if len(obj) > MAX_LABELS:
        raise PayloadError(f"{where} has {len(obj)} entries; the limit is {MAX_LABELS}.")
    return {
        _text(k, f"a key of {where}", limit=MAX_KEY, required=True): _text(
            v, f"{where}.{str(k)[:MAX_KEY]}", limit=MAX_VALUE
        )
        for k, v in obj.items()
    }


def _number(value: object, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{where} must be a number.")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PayloadError(f"{where} must be a number, not {str(value)[:40]!r}.") from None
    if not math.isfinite(number):
        raise PayloadError(f"{where} must be a finite number.")
    return number


def _check_time(at: dt.datetime, where: str, now: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise PayloadError(f"{where} needs a time zone (e.g. Z).")
    if at < EARLIEST or at > now + FUTURE_SLACK:
        raise PayloadError(f"{where} {at.isoformat()} is not a plausible time.")
    return at.astimezone(dt.UTC)


def _iso(value: object, where: str, now: dt.datetime) -> dt.datetime | None:
    text = _text(value, where, limit=64)
    if not text or text == GO_ZERO_TIME or text.startswith("0001-01-01"):
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where} is not an RFC 3339 time: {text[:40]!r}.") from None
    try:
        return _check_time(at, where, now)
    except OverflowError:
        raise PayloadError(f"{where} is not a plausible time.") from None


def _epoch(value: object, where: str, now: dt.datetime) -> dt.datetime:
    number = _number(value, where)
    if number is None:
        raise PayloadError(f"{where} is required.")
    if abs(number) > 1e11:  # milliseconds
        number /= 1000.0
    try:
        at = dt.datetime.fromtimestamp(number, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where} is not a plausible time.") from None
    return _check_time(at, where, now)


def _key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a list.")
    if not value:
        raise PayloadError(f"{where} is empty.")
    if len(value) > MAX_ALERTS:
        raise PayloadError(f"{where} has {len(value)} alerts; the limit is {MAX_ALERTS}.")
    return value


def _level(value: str) -> str:
    value = value.strip().lower()
    if value in ("critical", "error", "page", "p0", "p1", "high"):
        return "critical"
    if value in ("warning", "warn", "p2", "p3", "medium", "low"):
        return "warning"
    return ""


def _metric_and_value(labels: dict[str, str], annotations: dict[str, str], where: str):
    metric = labels.get("metric", "") or annotations.get("metric", "")
    value = _number(annotations.get("value"), f"{where}.annotations.value")
    return metric, value
