"""Publishing is atomic and failures are clean: bad keys, unreachable sources, a second ETL,
SIGKILL at any step, failed checks and a full disk all leave the previous snapshot current and
readable; readers during publishes never see a partial snapshot; old snapshots are pruned."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl import publish, transform
from etl.errors import CheckFailed, SpaceError
from etl.store import SnapshotStore

from .conftest import KEY, PausedEtl, cli, cli_env, current_name, run_etl, source_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(seeded: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Any]:
    url = source_url(seeded)
    if not url.startswith("sqlite"):
        pytest.skip("publishing is backend-independent; run once on the SQLite registry")
    folder = tmp_path_factory.mktemp("publish-template")
    source = folder / "source.db"
    shutil.copyfile(url.split("///", 1)[1], source)
    warehouse = folder / "warehouse"
    manifest = run_etl(f"sqlite:///{source}", warehouse)
    return f"sqlite:///{source}", warehouse, manifest


@pytest.fixture
def warehouse(template: tuple[str, Path, Any], tmp_path: Path) -> tuple[str, Path, Any]:
    """(source url, a private copy of a warehouse with one published snapshot, its manifest)."""
    url, folder, manifest = template
    target = tmp_path / "warehouse"
    shutil.copytree(folder, target)
    return url, target, manifest


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.name != publish.LOCK
    }


def assert_previous_is_current(folder: Path, manifest: Any) -> None:
    assert current_name(folder) == manifest.file
    store = SnapshotStore(folder)
    assert store.snapshots() == [manifest.file]
    with duckdb.connect(str(folder / manifest.file), read_only=True) as con:
        n = con.execute("SELECT COUNT(*) FROM fact_enrollment").fetchall()[0][0]
        sid = con.execute("SELECT snapshot_id FROM meta_manifest").fetchall()[0][0]
    assert n == manifest.rows["fact_enrollment"] and sid == manifest.snapshot_id


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("{")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xueji etl: error: ")
    return lines[0]


@pytest.mark.parametrize("key", [None, "short-key", "x" * 31])
def test_bad_key_fails_before_touching_the_warehouse(warehouse, tmp_path, key):
    url, folder, manifest = warehouse
    before = listing(folder)
    result = cli(["--source", url, "--warehouse", str(folder)], cli_env(key))
    assert result.returncode == 2
    assert "XUEJI_PSEUDONYM_KEY" in error_line(result)
    assert listing(folder) == before
    fresh = tmp_path / "never-created"
    result = cli(["--source", url, "--warehouse", str(fresh)], cli_env(key))
    assert result.returncode == 2 and not fresh.exists()
    assert_previous_is_current(folder, manifest)


@pytest.mark.parametrize("limit", ["lots", "0"])
def test_a_bad_memory_limit_fails_before_touching_the_warehouse(warehouse, limit):
    url, folder, manifest = warehouse
    before = listing(folder)
    result = cli(["--source", url, "--warehouse", str(folder), "--memory-limit", limit], cli_env())
    assert result.returncode == 2
    line = error_line(result)
    assert f"memory limit '{limit}'" in line and "XUEJI_ETL_MEMORY_LIMIT" in line
    env = {**cli_env(), "XUEJI_ETL_MEMORY_LIMIT": limit}
    result = cli(["--source", url, "--warehouse", str(folder)], env)
    assert result.returncode == 2 and "is not a size such as 512MB" in error_line(result)
    assert listing(folder) == before
    assert_previous_is_current(folder, manifest)


def test_unreachable_or_missing_source_fails_clearly(warehouse, tmp_path):
    _url, folder, manifest = warehouse
    before = listing(folder)
    result = cli(
        ["--source", "postgresql://postgres@127.0.0.1:1/nowhere", "--warehouse", str(folder)],
        cli_env(),
    )
    assert result.returncode == 4
    line = error_line(result)
    assert "cannot connect to the source database postgresql://127.0.0.1:1/nowhere" in line
    result = cli(
        ["--source", f"sqlite:///{tmp_path}/missing.db", "--warehouse", str(folder)], cli_env()
    )
    assert result.returncode == 4
    assert "source SQLite database not found" in error_line(result)
    assert listing(folder) == before
    assert_previous_is_current(folder, manifest)


def test_a_second_etl_is_refused_while_one_runs(warehouse):
    url, folder, manifest = warehouse
    args = ["--source", url, "--warehouse", str(folder)]
    first = PausedEtl(args, "locked")
    try:
        first.wait_paused()
        second = cli(args, cli_env())
        assert second.returncode == 3
        line = error_line(second)
        assert f"another ETL is running (pid {first.proc.pid}) since" in line
    finally:
        first.kill()
    assert_previous_is_current(folder, manifest)


@pytest.mark.parametrize("step", ["extracted", "building", "built", "checked", "renamed"])
def test_sigkill_at_any_step_keeps_the_previous_snapshot(warehouse, step):
    url, folder, manifest = warehouse
    args = ["--source", url, "--warehouse", str(folder), "--parquet"]
    etl = PausedEtl(args, step)
    etl.wait_paused()
    etl.kill()
    assert_previous_is_current(folder, manifest)
    visible = sorted(p.name for p in folder.glob("wh-*.duckdb"))
    if step == "renamed":  # renamed but never made current: not a snapshot
        assert len(visible) == 2 and SnapshotStore(folder).snapshots() == [manifest.file]
    else:
        assert visible == [manifest.file]
    leftovers = [
        p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".etl.lock"
    ]
    if step == "building":
        assert leftovers  # the half-built file and the staging folder
        with publish.WarehouseLock(folder):
            publish.cleanup_strays(folder)
        assert [p.name for p in folder.rglob(".*") if p.name != ".etl.lock"] == []
    if step == "renamed":
        # The next run removes what the killed one left (the renamed file and its Parquet
        # partitions), then publishes.
        result = cli(args, cli_env())
        assert result.returncode == 0, result.stderr
        new = current_name(folder)
        assert new != manifest.file
        assert [p.name for p in folder.rglob(".*") if p.name != ".etl.lock"] == []
        assert sorted(p.name for p in folder.glob("wh-*.duckdb")) == sorted([manifest.file, new])
        snapshots = {p.name for p in (folder / "parquet" / "fact_enrollment").iterdir()}
        assert snapshots == {f"snapshot={publish.snapshot_id_of(new)}"}


def test_sigterm_unwinds_and_removes_its_temporary_files(warehouse):
    url, folder, manifest = warehouse
    etl = PausedEtl(["--source", url, "--warehouse", str(folder)], "building")
    etl.wait_paused()
    assert [p for p in folder.iterdir() if p.name.startswith(".wh-")]
    etl.proc.send_signal(signal.SIGTERM)
    assert etl.proc.wait(timeout=30) == 130
    assert etl.proc.stderr is not None
    assert "interrupted; the current snapshot is unchanged" in etl.proc.stderr.read()
    etl.proc.stderr.close()
    assert [
        p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".etl.lock"
    ] == []
    assert_previous_is_current(folder, manifest)


def _inject(monkeypatch: pytest.MonkeyPatch, table: str, column: str, expression: str) -> None:
    sql = transform.TABLE_SQL[table]
    needle = f" AS {column},"
    assert needle in sql, (table, column)
    monkeypatch.setitem(
        transform.TABLE_SQL, table, sql.replace(needle, f" || {expression} AS {column},", 1)
    )


def test_personal_data_injected_into_a_build_fails_the_privacy_check(warehouse, monkeypatch):
    url, folder, manifest = warehouse
    before = listing(folder)
    _inject(monkeypatch, "dim_school", "school_name", "' 联系电话13812345678'")
    _inject(monkeypatch, "dim_region", "county_name", "'11010519491231002X'")
    _inject(monkeypatch, "dim_class", "grade_code", "''")  # harmless control: no failure
    with pytest.raises(CheckFailed) as raised:
        run_etl(url, folder)
    message = str(raised.value)
    assert "privacy dim_school.school_name" in message and "mobile phone" in message
    assert "dim_region.county_name" in message and "ID number" in message
    assert "13812345678" not in message and "11010519491231002X" not in message
    assert listing(folder) == before
    assert_previous_is_current(folder, manifest)


def test_source_names_and_bad_codes_fail_the_checks(warehouse, monkeypatch):
    url, folder, manifest = warehouse
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        long_name = db.execute(
            "SELECT name FROM guardian WHERE length(name) = 3 LIMIT 1"
        ).fetchone()[0]
    _inject(monkeypatch, "dim_school", "school_name", f"'（校长{long_name}）'")
    _inject(monkeypatch, "dim_student", "ethnicity", "'9'")  # not a GB 3304 code
    with pytest.raises(CheckFailed) as raised:
        run_etl(url, folder)
    message = str(raised.value)
    assert "containing a source name" in message
    assert "codes dim_student.ethnicity" in message
    assert long_name not in message
    assert_previous_is_current(folder, manifest)


def test_a_dangling_key_fails_the_orphans_check(warehouse, monkeypatch):
    url, folder, manifest = warehouse
    _inject(
        monkeypatch, "fact_enrollment", "county_code", "CASE WHEN e.id = 1 THEN 'x' ELSE '' END"
    )
    with pytest.raises(CheckFailed) as raised:
        run_etl(url, folder)
    message = str(raised.value)
    assert "orphans fact_enrollment.county_code: 1 distinct values missing" in message
    assert_previous_is_current(folder, manifest)


@pytest.mark.parametrize(
    "column, value, check",
    [("county_code", "' 13812345678'", "orphans"), ("kind", "'11010519491231002X'", "codes")],
)
def test_personal_data_in_a_key_or_code_column_fails_through_what_it_draws_from(
    warehouse, monkeypatch, column, value, check
):
    """The privacy scan reads an [fk] or [code] column through the column or code list it
    draws from (not 15M scores again): a personal value there is a value that is not among
    those, so the orphans or codes check refuses the snapshot, naming no value."""
    url, folder, manifest = warehouse
    before = listing(folder)
    _inject(monkeypatch, "fact_student_number", column, value)
    with pytest.raises(CheckFailed) as raised:
        run_etl(url, folder)
    message = str(raised.value)
    assert f"{check} fact_student_number.{column}" in message
    assert value.strip("' ") not in message
    assert listing(folder) == before
    assert_previous_is_current(folder, manifest)


def test_a_person_named_like_a_code_label_is_not_a_leak(warehouse):
    """Found by bench etl at 100k students: a personal value equal to a public code label
    (here a guardian called 回族) made dim_code.name_zh fail the privacy check. Public
    reference names are not personal data; a real leak still fails (tests above)."""
    url, folder, _manifest = warehouse
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE guardian SET name = '回族' WHERE id = (SELECT MIN(id) FROM guardian)")
    manifest = run_etl(url, folder)
    assert all(c["status"] != "fail" for c in manifest.checks)


def test_not_enough_free_space_is_refused(warehouse, monkeypatch):
    url, folder, manifest = warehouse
    monkeypatch.setattr(publish, "free_bytes", lambda root: 10 * 2**20)
    with pytest.raises(SpaceError, match="not enough free disk space"):
        run_etl(url, folder)
    assert_previous_is_current(folder, manifest)
    assert [
        p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".etl.lock"
    ] == []


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int):
    folder.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_disk_that_fills_up_during_the_build_fails_cleanly(warehouse, tmp_path, monkeypatch):
    url, folder, manifest = warehouse
    size = sum(p.stat().st_size for p in folder.iterdir())
    with small_disk(tmp_path / "disk", size // 2**20 + 3) as disk:
        target = disk / "warehouse"
        shutil.copytree(folder, target)
        monkeypatch.setattr(publish, "estimate_bytes", lambda rows: 0)  # get past the estimate
        with pytest.raises(SpaceError, match="disk is full"):
            run_etl(url, target)
        assert_previous_is_current(target, manifest)
        leftovers = [
            p.name for p in target.iterdir() if p.name.startswith(".") and p.name != ".etl.lock"
        ]
        assert leftovers == []


def test_readers_never_see_a_partial_snapshot_and_old_ones_are_pruned(warehouse, tmp_path):
    url, folder, manifest = warehouse
    source = tmp_path / "source.db"
    shutil.copyfile(url.split("///", 1)[1], source)
    url = f"sqlite:///{source}"
    store = SnapshotStore(folder)
    seen: list[tuple[int, int, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                cur = store.cursor()
                try:
                    seen.append(
                        cur.execute(
                            "SELECT (SELECT COUNT(*) FROM fact_enrollment), "
                            "(SELECT rows FROM meta_table WHERE table_name = 'fact_enrollment'), "
                            "(SELECT snapshot_id FROM meta_manifest)"
                        ).fetchall()[0]
                    )
                finally:
                    cur.close()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            time.sleep(0.02)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    published = {manifest.snapshot_id: manifest.rows["fact_enrollment"]}
    try:
        for _ in range(2):
            with sqlite3.connect(source) as db:  # the registry changes between snapshots
                db.execute(
                    "DELETE FROM enrollment WHERE id IN "
                    "(SELECT id FROM enrollment ORDER BY id DESC LIMIT 40)"
                )
            last = run_etl(url, folder, keep=2, mode="full")
            published[last.snapshot_id] = last.rows["fact_enrollment"]
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert len(seen) > 20
    for count, meta_rows, sid in seen:
        assert count == meta_rows == published[sid]
    assert len({sid for _c, _m, sid in seen}) >= 2
    assert len(set(published.values())) == 3
    kept = store.snapshots()
    assert len(kept) == 2 and kept[-1] == current_name(folder)
    assert sorted(p.name for p in folder.glob("wh-*.manifest.json")) == sorted(
        n.replace(".duckdb", ".manifest.json") for n in kept
    )
    assert last.pruned  # the manifest returned by the run that pruned


def test_concurrent_cursors_from_many_threads(warehouse):
    _url, folder, manifest = warehouse
    store = SnapshotStore(folder, config={"threads": 1})
    results: list[int] = []

    def work() -> None:
        for _ in range(30):
            cur = store.cursor()
            results.append(cur.execute("SELECT COUNT(*) FROM dim_student").fetchall()[0][0])
            cur.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [manifest.rows["dim_student"]] * 180


def test_key_is_read_from_the_environment_by_the_cli(warehouse):
    url, folder, _manifest = warehouse
    result = cli(["--source", url, "--warehouse", str(folder), "--keep", "1"], cli_env(KEY))
    assert result.returncode == 0, result.stderr
    events = [json.loads(ln) for ln in result.stderr.splitlines() if ln.startswith("{")]
    steps = {e.get("step") for e in events if e["event"] == "etl.step"}
    assert {"extract", "build", "check", "publish"} <= steps
    assert any(e.get("table") == "student" and e.get("rows") == 3000 for e in events)
    assert result.stdout.startswith("published wh-")
    assert len(SnapshotStore(folder).snapshots()) == 1  # --keep 1 pruned the first
    assert os.path.exists(folder / current_name(folder))
