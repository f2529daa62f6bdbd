"""The `xueji` command line as an operator meets it: one clear line on bad input, a non-zero
exit, no traceback, nothing changed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PgDatabase


def xueji(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: int = 300):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    full_env["XUEJI_DATA_DIR"] = str(data_dir)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "admin.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xueji: error:")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_init_twice_changes_nothing(tmp_path):
    first = xueji("init", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3219 new" in first.stdout
    db_file = tmp_path / "xueji.db"
    dump1 = "\n".join(sqlite3.connect(db_file).iterdump())
    second = xueji("init", data_dir=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout and "0 new, 0 updated" in second.stdout
    assert "roles: unchanged" in second.stdout
    dump2 = "\n".join(sqlite3.connect(db_file).iterdump())
    assert dump1 == dump2


@pytest.mark.parametrize(
    "url",
    ["nonsense://foo", "postgresql+psycopg://postgres@127.0.0.1:1/xueji", "not a url at all"],
)
def test_bad_database_url(tmp_path, url):
    result = xueji("init", data_dir=tmp_path, env={"XUEJI_DATABASE_URL": url})
    assert_one_line_error(result, "database")


def test_unwritable_data_folder(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    result = xueji("init", data_dir=blocked / "var")
    assert_one_line_error(result, "XUEJI_DATA_DIR", "writable")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--students", "0"], "--students"),
        (["--students", "999999999"], "--students"),
        (["--years", "0"], "--years"),
        (["--provinces", "99"], "--provinces"),
    ],
)
def test_seed_refuses_bad_options_and_writes_nothing(tmp_path, args, fragment):
    assert xueji("init", data_dir=tmp_path).returncode == 0
    db_file = tmp_path / "xueji.db"
    before = "\n".join(sqlite3.connect(db_file).iterdump())
    result = xueji("seed", *args, data_dir=tmp_path)
    assert_one_line_error(result, fragment)
    assert "\n".join(sqlite3.connect(db_file).iterdump()) == before


def test_seed_before_init_and_twice(tmp_path):
    result = xueji("seed", "--students", "500", data_dir=tmp_path)
    assert_one_line_error(result)
    assert xueji("init", data_dir=tmp_path).returncode == 0
    ok = xueji("seed", "--students", "500", "--years", "2", data_dir=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "seeded 500 students" in ok.stdout
    again = xueji("seed", "--students", "500", data_dir=tmp_path)
    assert_one_line_error(again, "already")


def test_seed_is_deterministic(tmp_path):
    dumps = []
    for name in ("a", "b"):
        folder = tmp_path / name
        assert xueji("init", data_dir=folder).returncode == 0
        assert xueji("seed", "--students", "800", "--seed", "11", data_dir=folder).returncode == 0
        con = sqlite3.connect(folder / "xueji.db")
        # created/updated stamps come from the fixed school-year dates, not the clock.
        dumps.append(
            con.execute(
                "SELECT group_concat(student_number || name || birth_date || id_number, ',') "
                "FROM (SELECT * FROM student ORDER BY id)"
            ).fetchone()
        )
    assert dumps[0] == dumps[1] and dumps[0][0]


def test_create_user_enforces_the_password_policy(tmp_path):
    assert xueji("init", data_dir=tmp_path).returncode == 0
    weak = xueji(
        "create-user",
        "--username",
        "clerk",
        "--password",
        "short",
        "--role",
        "Admin",
        data_dir=tmp_path,
    )
    assert_one_line_error(weak, "密码")
    contains = xueji(
        "create-user",
        "--username",
        "clerk",
        "--password",
        "Clerk-2026-abc",
        "--role",
        "Admin",
        data_dir=tmp_path,
    )
    assert_one_line_error(contains, "用户名")
    ok = xueji(
        "create-user",
        "--username",
        "clerk",
        "--password",
        "Strong-Pass-2026",
        "--role",
        "BureauOfficer",
        "--region",
        "6401",
        data_dir=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    bad_region = xueji(
        "create-user",
        "--username",
        "c2",
        "--password",
        "Strong-Pass-2026",
        "--role",
        "BureauOfficer",
        "--region",
        "9999",
        data_dir=tmp_path,
    )
    assert_one_line_error(bad_region, "--region")


@pytest.mark.pg
def test_init_and_seed_on_postgresql(tmp_path):
    pg = PgDatabase()
    try:
        env = {"XUEJI_DATABASE_URL": pg.url}
        assert xueji("init", data_dir=tmp_path, env=env).returncode == 0
        seeded = xueji("seed", "--students", "1000", data_dir=tmp_path, env=env)
        assert seeded.returncode == 0, seeded.stderr
        assert "seeded 1,000 students" in seeded.stdout
        again = xueji("init", data_dir=tmp_path, env=env)
        assert "0 new, 0 updated" in again.stdout
    finally:
        pg.drop()
