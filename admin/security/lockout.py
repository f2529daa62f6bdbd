"""Login lockout: after XUEJI_LOCKOUT_ATTEMPTS failures within XUEJI_LOCKOUT_MINUTES, an
account (normalized username) or a client address is locked for XUEJI_LOCKOUT_MINUTES.

Counters live in Redis when XUEJI_REDIS_URL is set, so every worker and every server process
shares them; otherwise in this process's memory. Failures for unknown usernames count like any
other, so the answers never reveal whether an account exists. The same store also remembers
used one-time values (captcha nonces) until they expire."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app, request

log = logging.getLogger("xueji.security")

EXTENSION_KEY = "xueji_lockout_store"


class LockoutUnavailable(Exception):
    """The shared counter store cannot be reached; logins are refused rather than unguarded."""


class Store(Protocol):
    def is_locked(self, keys: list[str]) -> bool: ...

    def fail(self, key: str, lock_key: str, attempts: int, window: int, lock: int) -> bool: ...

    def clear(self, key: str) -> None: ...

    def claim(self, key: str, ttl: int) -> bool: ...


class MemoryStore:
    """Counters in this process (one gunicorn worker); expiry checked on read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (failures, window end)
        self._until: dict[str, float] = {}  # lock or claim key -> expiry

    def _purge(self, now: float) -> None:
        if len(self._counts) + len(self._until) < 10_000:
            return
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._until = {k: v for k, v in self._until.items() if v > now}

    def is_locked(self, keys: list[str]) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(self._until.get(k, 0.0) > now for k in keys)

    def fail(self, key: str, lock_key: str, attempts: int, window: int, lock: int) -> bool:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            count, end = self._counts.get(key, (0, 0.0))
            if end <= now:
                count, end = 0, now + window
            count += 1
            if count >= attempts:
                self._counts.pop(key, None)
                self._until[lock_key] = now + lock
                return True
            self._counts[key] = (count, end)
            return False

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def claim(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            if self._until.get(key, 0.0) > now:
                return False
            self._until[key] = now + ttl
            return True


# INCR the failure counter (its window starts at the first failure); at the threshold, set the
# lock key and drop the counter, in one atomic step.
_FAIL_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisStore:
    """Counters shared by every process using the same Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        self._fail = self._client.register_script(_FAIL_SCRIPT)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            log.error("lockout store (Redis) unavailable: %s", exc)
            raise LockoutUnavailable(str(exc)) from exc

    def is_locked(self, keys: list[str]) -> bool:
        return bool(self._call(self._client.exists, *keys)) if keys else False

    def fail(self, key: str, lock_key: str, attempts: int, window: int, lock: int) -> bool:
        return bool(self._call(self._fail, keys=[key, lock_key], args=[window, attempts, lock]))

    def clear(self, key: str) -> None:
        self._call(self._client.delete, key)

    def claim(self, key: str, ttl: int) -> bool:
        return bool(self._call(self._client.set, key, b"1", nx=True, ex=max(1, ttl)))


def get_store() -> Store:
    """The store of this app (created on first use, so after a gunicorn fork)."""
    url = current_app.config.get("XUEJI_REDIS_URL") or ""
    cached = current_app.extensions.get(EXTENSION_KEY)
    if cached is not None and cached[0] == url:
        return cached[1]  # type: ignore[no-any-return]
    store: Store = RedisStore(url) if url else MemoryStore()
    current_app.extensions[EXTENSION_KEY] = (url, store)
    return store


def normalize_username(username: str | None) -> str:
    return (username or "").strip().lower()


def client_address() -> str:
    """The client's address (ProxyFix rewrites remote_addr when XUEJI_PROXY_FIX is set)."""
    return (request.remote_addr or "unknown")[:64]


def _digest(value: str) -> str:
    # Bounded, opaque keys: usernames are attacker-supplied.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class LoginGuard:
    """Lockout policy bound to one username and one address."""

    store: Store
    prefix: str
    attempts: int
    minutes: int
    username: str
    address: str
    address_attempts: int = 0  # 0: same as `attempts`

    @property
    def _account(self) -> str:
        return "user:" + _digest(normalize_username(self.username))

    @property
    def _addr(self) -> str:
        return "addr:" + _digest(self.address)

    def _keys(self, kind: str) -> list[str]:
        return [f"{self.prefix}{kind}:{self._account}", f"{self.prefix}{kind}:{self._addr}"]

    def is_locked(self) -> bool:
        return self.store.is_locked(self._keys("lock"))

    def register_failure(self) -> list[str]:
        """Count a failure for the account and the address; the scopes that just got locked."""
        seconds = self.minutes * 60
        locked: list[str] = []
        fails, locks = self._keys("fail"), self._keys("lock")
        limits = (self.attempts, self.address_attempts or self.attempts)
        scopes = ("account", "address")
        for scope, limit, count_key, lock_key in zip(scopes, limits, fails, locks, strict=True):
            if self.store.fail(count_key, lock_key, limit, seconds, seconds):
                locked.append(scope)
        return locked

    def register_success(self) -> None:
        """A success clears the account's counter (not the address's: an attacker could
        otherwise reset it by signing in to their own account between guesses)."""
        self.store.clear(self._keys("fail")[0])


def clear_account_failures(username: str) -> None:
    """After a proven password change: forget the account's failures (best effort)."""
    # Already logged when the store is down; the counter then expires by itself.
    with contextlib.suppress(LockoutUnavailable):
        login_guard(username).register_success()


def login_guard(username: str | None, address: str | None = None) -> LoginGuard:
    config = current_app.config
    return LoginGuard(
        store=get_store(),
        prefix=str(config.get("XUEJI_LOCKOUT_PREFIX", "xueji:lockout:")),
        attempts=max(1, int(config.get("XUEJI_LOCKOUT_ATTEMPTS", 5))),
        minutes=max(1, int(config.get("XUEJI_LOCKOUT_MINUTES", 15))),
        username=username or "",
        address=address if address is not None else client_address(),
        address_attempts=max(0, int(config.get("XUEJI_LOCKOUT_ADDRESS_ATTEMPTS", 0) or 0)),
    )


def claim_once(name: str, ttl: int) -> bool:
    """True the first time `name` is claimed within `ttl` seconds (shared across processes
    when Redis is configured)."""
    prefix = str(current_app.config.get("XUEJI_LOCKOUT_PREFIX", "xueji:lockout:"))
    return get_store().claim(f"{prefix}once:{_digest(name)}", ttl)


def over_rate_limit(bucket: str, per_minute: int) -> bool:
    """Count one request of this client address to ``bucket`` (e.g. the public diploma
    verification page); True once it has made more than ``per_minute`` in the current minute.
    Shares the lockout store, so the limit holds across workers when Redis is configured."""
    store = get_store()
    prefix = str(current_app.config.get("XUEJI_LOCKOUT_PREFIX", "xueji:lockout:"))
    who = _digest(client_address())
    lock_key = f"{prefix}rate-lock:{bucket}:{who}"
    if store.is_locked([lock_key]):
        return True
    store.fail(f"{prefix}rate:{bucket}:{who}", lock_key, per_minute, 60, 60)
    return False
