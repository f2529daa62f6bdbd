"""Fixtures for the login-hardening tests: one initialised app per backend for the session,
real Redis on loopback (a fresh key prefix per test), a real SMTP server (aiosmtpd) on a free
loopback port, and helpers to create accounts and read the audit trail."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message

import pytest

from tests.conftest import IN_CI, make_app, make_database

REDIS_URL = os.environ.get("XUEJI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "Xueji-Test-2026!"
FAST_HASH = "pbkdf2:sha256:1000"


def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but unreachable: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    return client


def delete_prefix(client, prefix: str) -> None:
    keys = list(client.scan_iter(match=prefix + "*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", params=["sqlite", "pg"])
def sec_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """An initialised registry per backend, shared by the tests of this folder: each test
    makes its own accounts and gets its own lockout key prefix."""
    if request.param == "pg":
        request.node.add_marker(pytest.mark.pg)
    folder = tmp_path_factory.mktemp(f"security-{request.param}")
    url, handle = make_database(request.param, folder)
    application = make_app(url, folder)
    # Test speed only: cheap password hashes (production keeps FAB's scrypt). The fake hash
    # FAB checks for unknown users gets the same cost, as it would in production.
    from werkzeug.security import generate_password_hash

    application.config["FAB_PASSWORD_HASH_METHOD"] = FAST_HASH
    application.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"] = generate_password_hash(
        "password", method=FAST_HASH
    )
    from admin.extensions import db
    from admin.services.setup import initialize

    with application.app_context():
        initialize()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if handle is not None:
        handle.drop()  # type: ignore[attr-defined]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis_client()
    prefix = f"xueji-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    delete_prefix(client, prefix)


@pytest.fixture
def app(sec_app, redis_prefix, monkeypatch: pytest.MonkeyPatch):
    """The shared app on real Redis with this test's own key prefix (config restored after)."""
    monkeypatch.setitem(sec_app.config, "XUEJI_REDIS_URL", REDIS_URL)
    monkeypatch.setitem(sec_app.config, "XUEJI_LOCKOUT_PREFIX", redis_prefix)
    monkeypatch.setitem(sec_app.config, "XUEJI_CAPTCHA_ENABLED", True)
    monkeypatch.setitem(sec_app.config, "XUEJI_PASSWORD_MAX_AGE_DAYS", 90)
    yield sec_app
    from admin.extensions import db

    with sec_app.app_context():
        db.session.remove()


def unique(stem: str) -> str:
    return f"{stem}{uuid.uuid4().hex[:8]}"


def new_user(
    app, *, role: str = "Admin", password: str = PASSWORD, email: str | None = None, stem: str = "u"
) -> str:
    """Create an account through the create-user service; returns its username."""
    from admin.services.accounts import create_account

    username = unique(stem)
    with app.app_context():
        create_account(username=username, password=password, role=role, email=email)
    return username


def audit_actions(app, username: str) -> list[str]:
    from sqlalchemy import select

    from admin.extensions import db
    from admin.models import AuditLog

    with app.app_context():
        rows = db.session.scalars(
            select(AuditLog.action).where(AuditLog.username == username).order_by(AuditLog.id)
        ).all()
        db.session.remove()
    return list(rows)


def audit_rows(app, **filters) -> list:
    """Audit entries (detached copies) matching column == value filters, oldest first."""
    from sqlalchemy import select

    from admin.extensions import db
    from admin.models import AuditLog

    with app.app_context():
        query = select(AuditLog).order_by(AuditLog.id)
        for column, value in filters.items():
            query = query.where(getattr(AuditLog, column) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        db.session.remove()
    return list(rows)


def flashed(response) -> str:
    """The page text after following a redirect (flash messages included)."""
    import html
    import re

    text = response.get_data(as_text=True)
    text = re.sub(r"<script\b.*?</script>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


# --- SMTP ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """Messages received by the aiosmtpd server."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._arrived:
            self.messages.append(
                message_from_bytes(envelope.original_content, policy=policy.default)
            )
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Message]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)


@pytest.fixture
def smtp(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on a free loopback port; the app is configured to use it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "XUEJI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "XUEJI_SMTP_PORT", port)
    monkeypatch.setitem(app.config, "XUEJI_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "XUEJI_SMTP_FROM", "XueJi <no-reply@xueji.test>")
    monkeypatch.setitem(app.config, "XUEJI_BASE_URL", "https://xueji.example.edu.cn")
    yield mailbox
    from admin.security.password_reset import wait_for_mail

    wait_for_mail()
    controller.stop()


def english(client):
    """Switch a test client to English (as GET /lang/en does), so tests can match messages
    whatever state the zh catalog is in; the domain messages are checked in Chinese."""
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


def en_client(app):
    return english(app.test_client())
