"""Browser tests: a real server process (gunicorn via `xueji serve`) on a seeded SQLite
registry, driven by Debian's Chromium through Playwright (no browser downloads)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Browser-Test-2026!"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def xueji(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "admin.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    folder: Path = tmp_path_factory.mktemp("live")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    env.update(
        {
            "XUEJI_DATA_DIR": str(folder),
            # The captcha is exercised in tests/security; a browser cannot read it.
            "XUEJI_CAPTCHA_ENABLED": "0",
            "XUEJI_SECRET_KEY": "e2e-" + "k" * 40,
        }
    )
    xueji("init", env=env)
    xueji("seed", "--students", "1500", "--years", "2", "--seed", "5", env=env)
    import sqlite3

    con = sqlite3.connect(folder / "xueji.db")
    school_code, school_id = con.execute(
        "SELECT code, id FROM school WHERE region_code LIKE '64%' ORDER BY id LIMIT 1"
    ).fetchone()
    student = con.execute(
        "SELECT id, name, student_number FROM student WHERE current_school_id = ? "
        "AND current_status = '01' ORDER BY id LIMIT 1",
        (school_id,),
    ).fetchone()
    con.close()
    xueji(
        "create-user",
        "--username",
        "registrar",
        "--password",
        PASSWORD,
        "--role",
        "SchoolRegistrar",
        "--school",
        school_code,
        env=env,
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "admin.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("server did not start: " + (server.stdout.read() if server.stdout else ""))
    yield {"base": base, "student": student, "folder": folder, "env": env}
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def serve_lifecycle_copy(
    lifecycle_templates, tmp_path: Path, secret: str, prepare=None
) -> Iterator[dict[str, object]]:
    """A server (gunicorn via `xueji serve`) on a private copy of the seeded lifecycle
    registry (tests/lifecycle/conftest.py: its accounts, TODAY as the business date).
    ``prepare(db_url, tmp_path, cast)`` may set the copy up first; what it returns is merged
    into the yielded dict (base, cast, db, log)."""
    from tests.lifecycle.conftest import TODAY

    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    url, _, cast = lifecycle_templates("sqlite")
    shutil.copyfile(url.removeprefix("sqlite:///"), tmp_path / "xueji.db")
    db_url = f"sqlite:///{tmp_path / 'xueji.db'}"
    extra = prepare(db_url, tmp_path, cast) if prepare is not None else {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    env.update(
        {
            "XUEJI_DATA_DIR": str(tmp_path),
            "XUEJI_DATABASE_URL": db_url,
            "XUEJI_CAPTCHA_ENABLED": "0",
            "XUEJI_SECRET_KEY": secret + "-" + "k" * 40,
            "XUEJI_TODAY": TODAY.isoformat(),
        }
    )
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "admin.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
    yield {
        "base": base,
        "cast": cast,
        "db": tmp_path / "xueji.db",
        "log": tmp_path / "server.log",
        **extra,
    }
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def sign_in(browser, base: str, username: str, password: str, **context_options):
    """A new browser context (zh-CN; a desktop viewport unless told otherwise) signed in."""
    context_options.setdefault("viewport", {"width": 1366, "height": 900})
    context = browser.new_context(locale="zh-CN", **context_options)
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, username
    return context, page
