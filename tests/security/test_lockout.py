"""Lockout: 5 failures within 15 minutes lock the account and the address for 15 minutes, on
the sign-in form and the JWT API, with the same answers for unknown usernames."""

from __future__ import annotations

import pytest

from tests.conftest import login_via_form
from tests.security.conftest import (
    PASSWORD,
    REDIS_URL,
    audit_actions,
    audit_rows,
    en_client,
    flashed,
    new_user,
    redis_client,
    unique,
)

LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."
INVALID = "Invalid login. Please try again."


def _form_attempt(client, username: str, password: str) -> tuple[bool, str]:
    """(signed in?, message shown)"""
    response = login_via_form(client, username, password)
    assert response.status_code == 302
    if "/login" not in response.headers["Location"]:
        return True, ""
    return False, flashed(client.get(response.headers["Location"]))


def _api_login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
        environ_base={"REMOTE_ADDR": address},
    )


def _from(app, address: str):
    client = en_client(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_five_bad_passwords_lock_the_account_even_for_the_right_password(app) -> None:
    username = new_user(app)
    client = _from(app, "10.0.0.1")
    for _ in range(5):
        ok, message = _form_attempt(client, username, "Wrong-Password-1")
        assert not ok and INVALID in message
    ok, message = _form_attempt(client, username, PASSWORD)
    assert not ok and LOCKED in message
    # Another address: the account is still locked (per account, not only per address).
    ok, message = _form_attempt(_from(app, "10.0.0.2"), username, PASSWORD)
    assert not ok and LOCKED in message
    actions = audit_actions(app, username)
    assert actions.count("login_failed") == 5 + 2  # 5 counted by FAB + 2 refused by the lock
    assert "login" not in actions
    # The 5th failure locked both the account and the address it came from.
    lockouts = [r for r in audit_rows(app, username=username) if r.action == "lockout"]
    assert {r.changes["scope"] for r in lockouts} == {"account", "address"}
    assert {r.address for r in lockouts} == {"10.0.0.1"}


def test_unknown_usernames_get_the_same_answers(app) -> None:
    ghost = unique("ghost")
    client = _from(app, "10.0.1.1")
    for _ in range(5):
        ok, message = _form_attempt(client, ghost, "Wrong-Password-1")
        assert not ok and INVALID in message
    ok, message = _form_attempt(client, ghost, PASSWORD)
    assert not ok and LOCKED in message
    actions = audit_actions(app, ghost)
    assert actions.count("login_failed") == 6 and actions.count("lockout") == 2
    # API: the same codes and bodies as for a real account.
    real, ghost = new_user(app), unique("ghost")
    api = app.test_client()
    for name, address in ((ghost, "10.0.1.2"), (real, "10.0.1.3")):
        codes = [_api_login(api, name, "Wrong-Password-1", address).status_code for _ in range(5)]
        assert codes == [401] * 5
    assert (
        _api_login(api, ghost, PASSWORD, "10.0.1.4").json
        == _api_login(api, real, PASSWORD, "10.0.1.5").json
    )


def test_failures_across_usernames_lock_the_address(app) -> None:
    victim = new_user(app)
    attacker = _from(app, "10.0.2.1")
    for _ in range(5):
        ok, _message = _form_attempt(attacker, unique("spray"), "Spring-2026!x")
        assert not ok
    ok, message = _form_attempt(attacker, victim, PASSWORD)
    assert not ok and LOCKED in message
    ok, _message = _form_attempt(_from(app, "10.0.2.2"), victim, PASSWORD)
    assert ok  # the account itself is not locked
    [lockout] = [r for r in audit_rows(app, address="10.0.2.1") if r.action == "lockout"]
    assert lockout.changes["scope"] == "address"


def test_success_clears_the_account_counter_but_not_the_address(app) -> None:
    username = new_user(app)
    for address in ("10.0.3.1", "10.0.3.2"):
        client = _from(app, address)
        for _ in range(4):
            assert not _form_attempt(client, username, "Wrong-Password-1")[0]
        assert _form_attempt(_from(app, "10.0.3.9"), username, PASSWORD)[0]
    # 8 failures for the account, but never 5 in a row: not locked.
    assert _form_attempt(_from(app, "10.0.3.3"), username, PASSWORD)[0]


def test_api_login_returns_429_after_five_failures(app) -> None:
    username = new_user(app)
    client = app.test_client()
    good = _api_login(client, username, PASSWORD, "10.0.4.1")
    assert good.status_code == 200 and "access_token" in good.json
    codes = [
        _api_login(client, username, "Wrong-Password-1", "10.0.4.2").status_code for _ in range(5)
    ]
    assert codes == [401] * 5
    locked = _api_login(client, username, PASSWORD, "10.0.4.3")
    assert locked.status_code == 429
    assert locked.is_json and "message" in locked.json
    # The form is locked as well: one shared counter.
    ok, message = _form_attempt(_from(app, "10.0.4.4"), username, PASSWORD)
    assert not ok and LOCKED in message
    actions = audit_actions(app, username)
    assert actions.count("lockout") == 2 and actions.count("login_failed") == 5 + 2


def test_api_addresses_lock_too(app) -> None:
    client = app.test_client()
    for _ in range(5):
        assert _api_login(client, unique("spray"), "x", "10.0.5.1").status_code == 401
    assert _api_login(client, unique("spray"), "x", "10.0.5.1").status_code == 429


def test_spoofed_forwarded_for_is_ignored_without_proxy_fix(app) -> None:
    """Without XUEJI_PROXY_FIX, X-Forwarded-For cannot be used to rotate addresses."""
    client = app.test_client()
    for n in range(5):
        response = client.post(
            "/api/v1/security/login",
            json={"username": unique("spray"), "password": "x", "provider": "db"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            environ_base={"REMOTE_ADDR": "10.0.6.1"},
        )
        assert response.status_code == 401
    assert _api_login(client, unique("spray"), "x", "10.0.6.1").status_code == 429


def test_proxy_fix_takes_the_address_from_the_proxy(sec_app, redis_prefix, tmp_path) -> None:
    from admin import create_app

    proxied = create_app(
        SQLALCHEMY_DATABASE_URI=sec_app.config["SQLALCHEMY_DATABASE_URI"],
        TESTING=True,
        SECRET_KEY=sec_app.config["SECRET_KEY"],
        XUEJI_DATA_DIR=str(tmp_path),
        XUEJI_PROXY_FIX=1,
        XUEJI_REDIS_URL=REDIS_URL,
        XUEJI_LOCKOUT_PREFIX=redis_prefix,
    )
    client = proxied.test_client()

    def attempt(forwarded: str) -> int:
        return client.post(
            "/api/v1/security/login",
            json={"username": unique("spray"), "password": "x", "provider": "db"},
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    assert [attempt("198.51.100.7") for _ in range(5)] == [401] * 5
    assert attempt("198.51.100.7") == 429
    assert attempt("198.51.100.8") == 401  # another client behind the same proxy
    from admin.extensions import db

    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_redis_counters_expire(app, redis_prefix) -> None:
    username = new_user(app)
    client = app.test_client()
    r = redis_client()
    for _ in range(4):
        _api_login(client, username, "Wrong-Password-1", "10.0.7.1")
    counters = list(r.scan_iter(match=redis_prefix + "fail:*"))
    assert len(counters) == 2  # the account and the address
    assert all(14 * 60 < r.ttl(k) <= 15 * 60 for k in counters)
    assert r.get(counters[0]) == b"4"
    _api_login(client, username, "Wrong-Password-1", "10.0.7.1")
    locks = list(r.scan_iter(match=redis_prefix + "lock:*"))
    assert len(locks) == 2 and all(14 * 60 < r.ttl(k) <= 15 * 60 for k in locks)
    assert not list(r.scan_iter(match=redis_prefix + "fail:*"))  # counters restart after a lock


# --- the in-memory store (no XUEJI_REDIS_URL) ----------------------------------------------------


def test_memory_store_locks_and_expires(monkeypatch) -> None:
    from admin.security import lockout

    now = [1000.0]
    monkeypatch.setattr(lockout.time, "monotonic", lambda: now[0])
    store = lockout.MemoryStore()
    for _ in range(4):
        assert store.fail("f:a", "l:a", 5, 900, 900) is False
    assert store.is_locked(["l:a"]) is False
    assert store.fail("f:a", "l:a", 5, 900, 900) is True
    assert store.is_locked(["l:b", "l:a"]) is True
    now[0] += 901
    assert store.is_locked(["l:a"]) is False
    # Failures outside the window do not add up.
    for _ in range(4):
        store.fail("f:b", "l:b", 5, 900, 900)
    now[0] += 901
    assert store.fail("f:b", "l:b", 5, 900, 900) is False
    # One-time claims.
    assert store.claim("once:x", 60) is True
    assert store.claim("once:x", 60) is False
    now[0] += 61
    assert store.claim("once:x", 60) is True


def test_memory_store_is_used_without_redis(app, monkeypatch) -> None:
    from admin.security import lockout

    monkeypatch.setitem(app.config, "XUEJI_REDIS_URL", "")
    with app.app_context():
        assert isinstance(lockout.get_store(), lockout.MemoryStore)
    username = new_user(app)
    client = app.test_client()
    for _ in range(5):
        assert _api_login(client, username, "bad", "10.0.8.1").status_code == 401
    assert _api_login(client, username, PASSWORD, "10.0.8.2").status_code == 429


def test_unreachable_redis_refuses_logins(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "XUEJI_REDIS_URL", "redis://127.0.0.1:1/0")
    username = new_user(app)
    response = _api_login(app.test_client(), username, PASSWORD, "10.0.9.1")
    assert response.status_code == 503


@pytest.mark.parametrize("attempts", [3])
def test_attempts_and_minutes_are_settings(app, monkeypatch, attempts) -> None:
    monkeypatch.setitem(app.config, "XUEJI_LOCKOUT_ATTEMPTS", attempts)
    monkeypatch.setitem(app.config, "XUEJI_LOCKOUT_MINUTES", 2)
    username = new_user(app)
    client = app.test_client()
    for _ in range(attempts):
        assert _api_login(client, username, "bad", "10.0.10.1").status_code == 401
    locked = _api_login(client, username, PASSWORD, "10.0.10.2")
    assert locked.status_code == 429 and "2" in locked.json["message"]


def test_unreachable_redis_refuses_form_logins_with_a_message(app, monkeypatch) -> None:
    username = new_user(app)
    client = en_client(app)
    monkeypatch.setitem(app.config, "XUEJI_REDIS_URL", "redis://127.0.0.1:1/0")
    response = login_via_form(client, username, PASSWORD)
    assert response.status_code == 200
    assert "temporarily unavailable" in flashed(response)
    assert client.get("/users/userinfo/").status_code != 200


def test_address_threshold_can_be_raised_for_shared_addresses(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "XUEJI_LOCKOUT_ADDRESS_ATTEMPTS", 8)
    client = app.test_client()
    codes = [_api_login(client, unique("nat"), "x", "10.0.11.1").status_code for _ in range(9)]
    assert codes == [401] * 8 + [429]
