"""The fault the test asked for, shared by this process's threads."""

from __future__ import annotations

import threading

KINDS = ("", "bad_signature", "wrong_audience", "expired", "replay")
_lock = threading.Lock()
_state = {"fault": "", "last_nonce": ""}


def set_fault(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; one of {', '.join(k for k in KINDS if k)}")
    with _lock:
        _state["fault"] = kind


def current() -> str:
    with _lock:
        return _state["fault"]


def remember_nonce(nonce: str) -> None:
    with _lock:
        _state["last_nonce"] = nonce


def last_nonce() -> str:
    with _lock:
        return _state["last_nonce"]


def reset() -> None:
    with _lock:
        _state.update(fault="", last_nonce="")
