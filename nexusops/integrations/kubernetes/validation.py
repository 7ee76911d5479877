"""Checks run before any request: names and label selectors as the API server defines them.

A name that fails here is never sent, so an odd string typed in the console or passed from a
Slack command cannot reach the cluster as a path segment or selector.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import InvalidName

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_TERM_SET = re.compile(r"(!?)(\S+?)\s+(in|notin)\s+\(([^)]*)\)")
_TERM_EQ = re.compile(r"([^=!\s]+)\s*(==|=|!=)\s*(\S*)")
_TERM_EXISTS = re.compile(r"(!?)([^=!\s(),]+)")


def dns1123_label(value: str, *, what: str = "name") -> str:
    """A DNS-1123 label (namespaces): 1-63 of ``a-z0-9-``, alphanumeric at both ends."""
    if not isinstance(value, str) or len(value) > 63 or not _LABEL.fullmatch(value):
        raise InvalidName(
            f"{what} {value!r} is not a valid DNS-1123 label: up to 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


def dns1123_subdomain(value: str, *, what: str = "name") -> str:
    """A DNS-1123 subdomain (pods, deployments): dot-separated labels, at most 253 long."""
    if (
        not isinstance(value, str)
        or len(value) > 253
        or not all(_LABEL.fullmatch(part) for part in value.split("."))
    ):
        raise InvalidName(
            f"{what} {value!r} is not a valid DNS-1123 name: lowercase letters, digits, '-' "
            "and '.', starting and ending with a letter or digit, at most 253 characters"
        )
    return value


def label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if prefix:
        dns1123_subdomain(prefix, what="label prefix")
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise InvalidName(f"label key {key!r} is not valid")
    return key


def label_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_NAME.fullmatch(value):
        raise InvalidName(f"label value {value!r} is not valid")
    return value


def label_selector(selector: str | Mapping[str, str] | None) -> str | None:
    """Validate a selector and return it as the API's string form.

    Accepts ``{"app": "user-service"}`` or a string of comma-separated terms:
    ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``, ``k notin (a,b)``.
    """
    if selector is None or selector == "" or selector == {}:
        return None
    if isinstance(selector, Mapping):
        return ",".join(f"{label_key(k)}={label_value(v)}" for k, v in selector.items())
    if not isinstance(selector, str):
        raise InvalidName(f"label selector {selector!r} must be a string or a mapping")
    for term in re.findall(r"(?:[^,(]|\([^)]*\))+", selector):
        term = term.strip()
        if m := _TERM_SET.fullmatch(term):
            if m.group(1):
                raise InvalidName(f"label selector term {term!r} is not valid")
            label_key(m.group(2))
            for value in m.group(4).split(","):
                label_value(value.strip())
        elif m := _TERM_EQ.fullmatch(term):
            label_key(m.group(1))
            label_value(m.group(3))
        elif m := _TERM_EXISTS.fullmatch(term):
            label_key(m.group(2))
        else:
            raise InvalidName(f"label selector term {term!r} is not valid")
    return selector
