"""Who is acting and why: the signed-in user in a request, a name given by CLI/batch code
through `audit_actor(...)`, else "system"; the reason from `session.info["audit_reason"]`
or `audit_actor(..., reason=...)`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

SYSTEM = "system"
ANONYMOUS = "anonymous"
REASON_KEY = "audit_reason"  # session.info key: reason for every flush until commit/rollback


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    address: str | None = None
    reason: str | None = None


_explicit: ContextVar[Actor | None] = ContextVar("xueji_audit_actor", default=None)


@contextmanager
def audit_actor(
    username: str, reason: str | None = None, *, user_id: int | None = None
) -> Iterator[Actor]:
    """Attribute every audited change made inside the block to `username` (CLI, imports,
    batch jobs), optionally with a reason. Overrides the request's user."""
    actor = Actor(user_id=user_id, username=username, reason=reason)
    token = _explicit.set(actor)
    try:
        yield actor
    finally:
        _explicit.reset(token)


def set_audit_reason(session: Any, reason: str | None) -> None:
    """Attach a reason to the audited changes of this session's current transaction."""
    if reason:
        session.info[REASON_KEY] = reason
    else:
        session.info.pop(REASON_KEY, None)


def _request_address() -> str | None:
    from flask import has_request_context, request

    return request.remote_addr if has_request_context() else None


def _request_user() -> tuple[int | None, str] | None:
    from flask import g, has_app_context, has_request_context

    if not has_app_context():
        return None
    user = g.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        try:
            return int(user.id), str(user.username)
        except Exception:  # a detached or half-loaded user object: keep the name we can get
            return None, str(getattr(user, "username", ANONYMOUS))
    if has_request_context():
        return None, ANONYMOUS
    return None


def current_actor(session: Any = None) -> Actor:
    address = _request_address()
    explicit = _explicit.get()
    reason = (session.info.get(REASON_KEY) if session is not None else None) or (
        explicit.reason if explicit else None
    )
    if explicit is not None:
        return Actor(explicit.user_id, explicit.username, address, reason)
    found = _request_user()
    if found is not None:
        return Actor(found[0], found[1], address, reason)
    return Actor(None, SYSTEM, address, reason)
