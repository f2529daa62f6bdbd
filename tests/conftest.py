"""Shared fixtures: real databases (a fresh SQLite file, a fresh PostgreSQL database per
test module or session), the Flask app on top of them, and a seeded registry."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_DSN = os.environ.get(
    "XUEJI_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# A fixed "today" keeps the generated nation identical whatever the calendar says.
SEED_TODAY = date(2026, 11, 28)


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


class PgDatabase:
    """A throwaway PostgreSQL database, created now and dropped by drop()."""

    def __init__(self, template: str | None = None) -> None:
        problem = _pg_available()
        if problem:
            if IN_CI:
                pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {problem}")
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        self.name = f"xueji_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{self.name}"{suffix}')
        params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
        self.url = (
            f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
            f"{params.get('port', 5432)}/{self.name}"
        )

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def make_database(kind: str, folder: Path) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'xueji.db'}", None
    pg = PgDatabase()
    return pg.url, pg


def make_app(url: str, data_dir: Path):
    os.environ["XUEJI_DATA_DIR"] = str(data_dir)
    from admin import create_app

    return create_app(
        SQLALCHEMY_DATABASE_URI=url,
        TESTING=True,
        SECRET_KEY="test-secret-key-" + "x" * 32,
        XUEJI_DATA_DIR=str(data_dir),
    )


@pytest.fixture(params=["sqlite", "pg"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "pg":
        request.node.add_marker(pytest.mark.pg)
    return request.param


@pytest.fixture
def empty_db(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(backend, url) of a brand-new, empty database."""
    url, handle = make_database(backend, tmp_path)
    yield backend, url
    if handle is not None:
        handle.drop()  # type: ignore[attr-defined]


@pytest.fixture
def app(empty_db: tuple[str, str], tmp_path: Path):
    _, url = empty_db
    application = make_app(url, tmp_path)
    yield application
    from admin.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


class _InitializedTemplates:
    """One initialised database per backend per test session (migrations, code tables,
    regions, roles), cloned for each test: a SQLite file copy, or PostgreSQL's
    CREATE DATABASE … TEMPLATE. Running `initialize()` per test took seconds each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, tuple[str, object]] = {}

    def template(self, kind: str) -> tuple[str, object]:
        if kind not in self.built:
            where = self.folder / f"template-{kind}"
            where.mkdir()
            url, handle = make_database(kind, where)
            application = make_app(url, where)
            from admin.extensions import db
            from admin.services.setup import initialize

            with application.app_context():
                initialize()
                db.session.remove()
                db.engine.dispose()  # checkpoints the SQLite WAL; frees the PG template
            self.built[kind] = (url, handle)
        return self.built[kind]

    def clone(self, kind: str, folder: Path) -> tuple[str, object]:
        url, handle = self.template(kind)
        if kind == "sqlite":
            import shutil

            shutil.copyfile(url.removeprefix("sqlite:///"), folder / "xueji.db")
            return f"sqlite:///{folder / 'xueji.db'}", None
        pg = PgDatabase(template=handle.name)  # type: ignore[attr-defined]
        return pg.url, pg

    def drop(self) -> None:
        for _, handle in self.built.values():
            if handle is not None:
                handle.drop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def initialized_templates(tmp_path_factory: pytest.TempPathFactory):
    templates = _InitializedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


@pytest.fixture
def initialized_app(backend: str, tmp_path: Path, initialized_templates: _InitializedTemplates):
    """An app on a fresh, initialised database of its own."""
    url, handle = initialized_templates.clone(backend, tmp_path)
    application = make_app(url, tmp_path)
    yield application
    from admin.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if handle is not None:
        handle.drop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session", params=["sqlite", "pg"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A registry initialised and seeded once per backend for the whole session
    (3,000 students over 3 school years); tests must not modify it."""
    folder = tmp_path_factory.mktemp(f"seeded-{request.param}")
    url, handle = make_database(request.param, folder)
    application = make_app(url, folder)
    from admin.extensions import db
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    with application.app_context():
        initialize()
        report = seed_database(
            db.engine, SeedOptions(students=3000, years=3, seed=7, today=SEED_TODAY)
        )
    application.config["SEED_REPORT"] = report
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if handle is not None:
        handle.drop()  # type: ignore[attr-defined]


# --- signing in over HTTP (CSRF token + captcha), for tests that use the login form --------------

CAPTCHA_TEST_ANSWER = "K7PX"


def csrf_token_from(response) -> str:
    """The csrf_token hidden field of a rendered form."""
    import re

    html = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    assert field, "no csrf_token field on the page"
    value = re.search(r'value="([^"]+)"', field.group(0))
    assert value, "csrf_token field has no value"
    return value.group(1)


def solve_captcha(client, answer: str = CAPTCHA_TEST_ANSWER) -> str:
    """Fetch a captcha image the way a browser does, with the answer generator patched so the
    test knows what the image shows; returns the answer to type."""
    from unittest import mock

    from admin.security import captcha

    with mock.patch.object(captcha, "generate_answer", return_value=answer):
        response = client.get("/captcha.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    return answer


def login_via_form(
    client, username: str, password: str, *, captcha: str | None = None, next_url: str | None = None
):
    """POST the login form like a browser: page (CSRF token), captcha image, form. `captcha`
    overrides the answer typed (default: the right one). Returns the POST response."""
    from urllib.parse import quote

    page = client.get("/login/")
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": csrf_token_from(page)}
    answer = solve_captcha(client)
    data["captcha"] = answer if captcha is None else captcha
    url = "/login/" + (f"?next={quote(next_url)}" if next_url else "")
    return client.post(url, data=data)


# One Playwright driver per test session: two sync_playwright() instances cannot coexist in
# one thread, so every browser test (tests/e2e, tests/dashboards) shares this fixture.
@pytest.fixture(scope="session")
def browser():
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        if IN_CI:
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=args)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def as_date(value: Any) -> date:
    """A DATE column's value as a date, whatever the driver returns (date, datetime, text)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def dump_tables(url: str, tables: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, ordered by id (to compare two databases or two runs)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in tables
            }
    finally:
        engine.dispose()
