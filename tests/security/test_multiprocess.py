"""The lockout holds across server processes that share one Redis: two real `xueji serve`
(gunicorn) processes on different ports, one SQLite file, one key prefix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from json import dumps, loads

import pytest

from tests.security.conftest import PASSWORD, REDIS_URL, free_port, new_user

pytestmark = pytest.mark.slow


def _post_login(port: int, username: str, password: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/security/login",
        data=dumps({"username": username, "password": password, "provider": "db"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, loads(error.read() or b"{}")


def _wait_until_up(port: int, process: subprocess.Popen, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server on port {port} exited: {process.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"server on port {port} did not start within {timeout}s")


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "admin.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped below by that id
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    if process.stderr:
        process.stderr.close()


@pytest.mark.parametrize("sec_app", ["sqlite"], indirect=True)
def test_lockout_is_shared_by_two_server_processes(sec_app, redis_prefix, tmp_path) -> None:
    username = new_user(sec_app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    env.update(
        XUEJI_DATA_DIR=str(tmp_path),
        XUEJI_DATABASE_URL=sec_app.config["SQLALCHEMY_DATABASE_URI"],
        XUEJI_SECRET_KEY=sec_app.config["SECRET_KEY"],
        XUEJI_REDIS_URL=REDIS_URL,
        XUEJI_LOCKOUT_PREFIX=redis_prefix,
    )
    ports = free_port(), free_port()
    with ExitStack() as stack:
        servers = []
        for port in ports:
            process = _serve(port, env)
            stack.callback(_stop, process)
            servers.append(process)
        for port, process in zip(ports, servers, strict=True):
            _wait_until_up(port, process)
        a, b = ports
        assert _post_login(a, username, PASSWORD)[0] == 200  # both see the account
        assert [_post_login(a, username, "Wrong-1-pass")[0] for _ in range(3)] == [401] * 3
        assert [_post_login(b, username, "Wrong-2-pass")[0] for _ in range(2)] == [401] * 2
        for port in (a, b):
            status, body = _post_login(port, username, PASSWORD)
            assert status == 429, (port, body)
            assert body.get("message")
