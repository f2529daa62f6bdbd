"""Fixtures for the warehouse ETL: real sources (the session's seeded SQLite and PostgreSQL
registries, read only; SQLite copies where a test must change the source) and real DuckDB
snapshots in temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from etl import pipeline
from etl.progress import NullProgress

KEY = "test-pseudonym-key-0123456789-abcdefghij"
OTHER_KEY = "another-pseudonym-key-9876543210-zyxwvut"
ROOT = Path(__file__).resolve().parents[2]


def source_url(app: Any) -> str:
    return str(app.config["SQLALCHEMY_DATABASE_URI"])


def run_etl(url: str, warehouse: Path, key: str = KEY, **kwargs: Any) -> pipeline.Manifest:
    kwargs.setdefault("progress", NullProgress())
    return pipeline.run(url, warehouse, pseudonym_key=key, **kwargs)


def source_rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]
    finally:
        engine.dispose()


def current_name(warehouse: Path) -> str | None:
    try:
        return (warehouse / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None


def cli_env(key: str | None = KEY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_ETL_TEST")}
    env.pop("XUEJI_PSEUDONYM_KEY", None)
    if key is not None:
        env["XUEJI_PSEUDONYM_KEY"] = key
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def cli(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class PausedEtl:
    """An ETL subprocess stopped at a XUEJI_ETL_TEST_PAUSE_AT step."""

    def __init__(self, args: list[str], step: str, key: str = KEY) -> None:
        env = cli_env(key, XUEJI_ETL_TEST_PAUSE_AT=step, XUEJI_ETL_TEST_PAUSE_SECONDS="120")
        self.step = step
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "etl", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def wait_paused(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(
                    f"ETL ended before pausing at {self.step}: rc={self.proc.wait()} "
                    + "".join(self.lines[-5:])
                )
            self.lines.append(line)
            if '"etl.test_pause"' in line:
                assert json.loads(line)["step"] == self.step
                return
        raise AssertionError(f"ETL did not reach {self.step} in {timeout} s")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture(scope="session")
def built(seeded: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One published snapshot per seeded backend, shared by the read-only tests."""
    warehouse = tmp_path_factory.mktemp("warehouse")
    url = source_url(seeded)
    manifest = run_etl(url, warehouse, mode="full", parquet=True)
    return {"url": url, "warehouse": warehouse, "manifest": manifest, "app": seeded}


@pytest.fixture
def sqlite_copy(seeded: Any, tmp_path: Path) -> Iterator[str]:
    """A private copy of the seeded SQLite registry (for tests that change the source); the
    PostgreSQL variant of such a test is skipped."""
    url = source_url(seeded)
    if not url.startswith("sqlite"):
        pytest.skip("needs the SQLite registry")
    path = Path(url.split("///", 1)[1])
    target = tmp_path / "source.db"
    shutil.copyfile(path, target)
    yield f"sqlite:///{target}"
