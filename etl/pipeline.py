"""One ETL run: lock → extract (one consistent read) → pseudonymize + transform into a hidden
snapshot file → checks on the closed file → manifest → rename → CURRENT → prune.

Until CURRENT is replaced nothing a reader can see has changed; a failure or a kill at any
earlier point leaves only hidden files, which the next run removes (publish.cleanup_strays).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from . import _duck, checks, export, extract, pseudonymize, publish, schema, transform
from .errors import CheckFailed, ConfigError, EtlError, PublishError, SourceError, SpaceError
from .progress import Progress, pause_point

MODES = ("auto", "full", "incremental")
DEFAULT_KEEP = 5
DEFAULT_FULL_EVERY_DAYS = 7
# DuckDB's memory for staging and building. Capped so the ETL's memory stays flat as the registry
# grows (DuckDB spills to .staging-<id>/spill beyond it): 368 MB peak at 100k students, 412 MB at
# 1M. Spilling costs time in the heaviest rollups; raise it on a large machine (bench/README.md).
DEFAULT_MEMORY_LIMIT = "256MB"
MEMORY_LIMIT_ENV = "XUEJI_ETL_MEMORY_LIMIT"
REOPEN_MARGIN_SECONDS = 86_400  # incremental: re-read steps acted on since (previous as-of − 1 day)


@dataclass
class Manifest:
    snapshot_id: str
    file: str
    source_kind: str
    source: str
    source_driver: str
    source_fingerprint: str
    as_of: str
    built_at: str
    finished_at: str
    mode: str
    mode_reason: str
    previous_snapshot: str | None
    last_full_snapshot: str
    last_full_at: str
    code_version: str
    schema_version: str
    key_fingerprint: str
    rows: dict[str, int] = field(default_factory=dict)
    source_rows: dict[str, int] = field(default_factory=dict)
    tables: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)  # all but the passed ones
    checks_summary: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    watermarks: dict[str, int | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extracted_rows: int = 0
    rows_per_second: float = 0.0
    size_bytes: int = 0
    parquet: list[str] = field(default_factory=list)
    removed_strays: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)


def code_version() -> str:
    override = os.environ.get("XUEJI_CODE_VERSION")
    if override:
        return override
    try:
        from importlib.metadata import version

        base = version("xueji")
    except Exception:
        base = "0+unknown"
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")) + [here / "schema.sql"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"xueji {base} etl.{pseudonymize.b32(digest.digest())[:10]}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _duck_error(exc: duckdb.Error, doing: str) -> EtlError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if "no space left" in lowered or "disk quota" in lowered:
        return SpaceError(f"the disk is full while {doing}: {text}")
    if isinstance(exc, duckdb.ConstraintException):
        return CheckFailed(f"{doing}: {text} (the source has a missing or dangling value)")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return EtlError(f"out of memory while {doing} (set XUEJI_ETL_MEMORY_LIMIT): {text}")
    return PublishError(f"{doing} failed: {text}")


def _naive_utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)


def _load_manifest(root: Path, current: str | None) -> dict[str, Any] | None:
    if not current:
        return None
    sid = publish.snapshot_id_of(current)
    if sid is None:
        return None
    try:
        data: dict[str, Any] = json.loads(
            (root / publish.manifest_file(sid)).read_text(encoding="utf-8")
        )
        return data
    except (OSError, ValueError):
        return None


def decide_mode(
    requested: str,
    prev: dict[str, Any] | None,
    *,
    source_fp: str,
    key_fp: str,
    now: datetime,
    full_every_days: float,
) -> tuple[str, str]:
    if requested == "full":
        return "full", "full rebuild requested"
    if prev is None:
        return "full", "no previous snapshot"
    if prev.get("schema_version") != schema.schema_version():
        return "full", "the warehouse schema changed"
    if prev.get("key_fingerprint") != key_fp:
        return "full", "the pseudonym key changed"
    if prev.get("source_fingerprint") != source_fp:
        return "full", "a different source database"
    if requested == "auto":
        try:
            last_full = datetime.fromisoformat(prev["last_full_at"])
        except (KeyError, ValueError):
            return "full", "no record of the last full rebuild"
        age_days = (now - last_full).total_seconds() / 86_400
        if age_days >= full_every_days:
            return "full", f"periodic full rebuild (last one {age_days:.1f} days ago)"
    return "incremental", f"incremental since {prev.get('snapshot_id')}"


def run(
    source_url: str,
    warehouse_dir: str | os.PathLike[str],
    *,
    pseudonym_key: str | bytes | None,
    keep: int = DEFAULT_KEEP,
    mode: str = "auto",
    progress: Progress | None = None,
    parquet: bool = False,
    pg_driver: str = "auto",
    full_every_days: float = DEFAULT_FULL_EVERY_DAYS,
    connect_timeout: int = 10,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Manifest:
    """Build, check and publish one snapshot; return its manifest or raise EtlError."""
    key = pseudonymize.validate_key(pseudonym_key)  # before anything is touched
    if keep < 1:
        raise ConfigError(f"keep must be at least 1 (got {keep})")
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    if pg_driver not in ("auto", "adbc", "copy"):
        raise ConfigError(f"pg driver must be auto, adbc or copy (got {pg_driver!r})")
    extract.parse_source_url(source_url)  # a malformed URL fails before the warehouse is touched
    memory_limit = memory_limit_of(memory_limit)
    root = Path(warehouse_dir).expanduser().absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the warehouse folder {root}: {exc.strerror}") from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise ConfigError(f"the warehouse folder {root} is not writable")
    progress = progress or Progress()
    with publish.WarehouseLock(root):
        return _run_locked(
            source_url,
            root,
            key,
            keep=keep,
            mode=mode,
            progress=progress,
            parquet=parquet,
            pg_driver=pg_driver,
            full_every_days=full_every_days,
            connect_timeout=connect_timeout,
            memory_limit=memory_limit,
            threads=threads,
        )


def _run_locked(
    source_url: str,
    root: Path,
    key: bytes,
    *,
    keep: int,
    mode: str,
    progress: Progress,
    parquet: bool,
    pg_driver: str,
    full_every_days: float,
    connect_timeout: int,
    memory_limit: str | None,
    threads: int | None,
) -> Manifest:
    t0 = time.monotonic()
    started = datetime.now(UTC)
    pause_point("locked")
    removed = publish.cleanup_strays(root)
    if removed:
        progress.event("etl.cleanup", removed=removed)
    current = publish.read_current(root)
    prev = _load_manifest(root, current)
    sid = publish.new_snapshot_id(publish.snapshot_id_of(current) if current else None)
    name = publish.snapshot_file(sid)
    tmp_path = root / f".{name}.tmp"
    staging = root / f".staging-{sid}"
    staging.mkdir()
    progress.start(total=len(extract.SOURCE_TABLES) + len(transform.BUILD_ORDER) + 14)
    progress.event("etl.start", snapshot=sid, warehouse=str(root), current=current)
    state = _State(sid=sid, name=name, tmp_path=tmp_path, staging=staging)
    published_ok = False
    try:
        manifest = _build_and_publish(
            state,
            source_url,
            root,
            key,
            prev=prev,
            current=current,
            started=started,
            t0=t0,
            keep=keep,
            mode=mode,
            progress=progress,
            parquet=parquet,
            pg_driver=pg_driver,
            full_every_days=full_every_days,
            connect_timeout=connect_timeout,
            memory_limit=memory_limit,
            threads=threads,
        )
        manifest.removed_strays = removed
        published_ok = True
        return manifest
    except OSError as exc:  # e.g. a full disk while writing an extract or the staging spill
        raise publish.os_error(exc, "running the ETL") from exc
    except duckdb.Error as exc:
        raise _duck_error(exc, "running the ETL") from exc
    finally:
        with contextlib.suppress(Exception):
            state.sources.close()
        if state.con is not None:
            with contextlib.suppress(Exception):
                state.con.close()
        shutil.rmtree(staging, ignore_errors=True)
        if not published_ok:
            for path in (tmp_path, tmp_path.with_name(tmp_path.name + ".wal")):
                with contextlib.suppress(OSError):
                    path.unlink()
            export.discard_parquet(state.parquet_tmp)
            if not state.pointer_written:
                # renamed but never current: not a snapshot
                for path in (root / name, root / publish.manifest_file(sid)):
                    with contextlib.suppress(OSError):
                        path.unlink()
                for tmp in state.parquet_tmp.values():
                    shutil.rmtree(tmp.with_name(f"snapshot={sid}"), ignore_errors=True)
        progress.close(complete=published_ok)


@dataclass
class _State:
    sid: str
    name: str
    tmp_path: Path
    staging: Path
    con: duckdb.DuckDBPyConnection | None = None
    parquet_tmp: dict[str, Path] = field(default_factory=dict)
    pointer_written: bool = False
    sources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


def memory_limit_of(requested: str | None) -> str:
    """The DuckDB memory limit of a run (option, else XUEJI_ETL_MEMORY_LIMIT, else the default),
    checked before anything is touched."""
    limit = (requested or os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT).strip()
    try:
        duckdb.connect(":memory:", config={"memory_limit": limit}).close()
    except duckdb.Error as exc:
        raise ConfigError(
            f"memory limit {limit!r} (--memory-limit or {MEMORY_LIMIT_ENV}) is not a size "
            "such as 512MB or 4GB"
        ) from exc
    return limit


def _staging_connection(
    staging: Path, memory_limit: str | None, threads: int | None
) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {
        "temp_directory": str(staging / "spill"),
        "memory_limit": memory_limit_of(memory_limit),
        # Row order of a warehouse table means nothing (readers sort), and keeping it makes
        # DuckDB buffer whole results under a memory limit.
        "preserve_insertion_order": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    con.execute("CREATE SCHEMA stg")
    return con


def _build_and_publish(
    state: _State,
    source_url: str,
    root: Path,
    key: bytes,
    *,
    prev: dict[str, Any] | None,
    current: str | None,
    started: datetime,
    t0: float,
    keep: int,
    mode: str,
    progress: Progress,
    parquet: bool,
    pg_driver: str,
    full_every_days: float,
    connect_timeout: int,
    memory_limit: str | None,
    threads: int | None,
) -> Manifest:
    timings: dict[str, float] = {}
    key_fp = pseudonymize.fingerprint(key)
    con = _staging_connection(state.staging, memory_limit, threads)
    state.con = con
    pseudonymize.install(con, key)

    # ---------------------------------------------------------------- extract
    t = time.monotonic()
    # The source stays open (one consistent read) until the privacy check has asked it about
    # the finished snapshot's values; it is closed before publishing.
    src = state.sources.enter_context(
        extract.open_source(
            source_url, state.staging, pg_driver=pg_driver, connect_timeout=connect_timeout
        )
    )
    progress.step("connect", source=src.description, driver=src.driver)
    as_of = src.as_of()
    source_fp = pseudonymize.b32(hashlib.sha256(src.identity().encode()).digest())[:16]
    staged, skipped = _plan(src)
    source_rows, watermarks = _source_counts(src, staged)
    progress.step("count", tables=len(source_rows))
    publish.check_free_space(root, _rows_by_source(source_rows))
    chosen, reason = decide_mode(
        mode,
        prev,
        source_fp=source_fp,
        key_fp=key_fp,
        now=datetime.now(UTC),
        full_every_days=full_every_days,
    )
    prev_path = root / current if current else None
    incremental: dict[str, str] = {}
    prev_attached = False
    if chosen == "incremental":
        assert prev is not None and prev_path is not None
        try:
            con.execute(f"ATTACH {export._lit(prev_path)} AS prev (READ_ONLY)")
            prev_attached = True
        except duckdb.Error:
            chosen, reason = "full", "the previous snapshot cannot be opened"
    progress.event("etl.mode", mode=chosen, reason=reason)
    transform.install_helpers(con, as_of.replace(tzinfo=None).isoformat())
    extracted = 0
    feeds: dict[str, Callable[[], AbstractContextManager[str]]] = {}
    for table in extract.SOURCE_TABLES:
        if table.name not in staged:
            continue
        where = None
        fact = _incremental_fact_of(table.name)
        prev_hwm = (prev or {}).get("watermarks", {}).get(fact) if fact else None
        if chosen == "incremental" and fact and prev_hwm is not None and table.incremental:
            where = _delta_where(src, table, int(prev_hwm), prev, as_of)
        if where is None and table.name in transform.FED:
            # Read while its fact is built (transform.FED); counted from that fact's rows.
            feeds[table.name] = functools.partial(
                src.feed, con, extract.select_sql(src, table), extract.types_of(table)
            )
            continue
        n = src.load(
            con,
            f"stg.{table.name}",
            extract.select_sql(src, table, where),
            extract.types_of(table),
        )
        extracted += n
        if where is not None:
            assert fact is not None
            incremental[fact] = table.name
        progress.step("extract", table=table.name, rows=n, delta=where is not None or None)
    transform.build_maps(con, staged)
    # Carry the rest of each incremental fact over from the previous snapshot; a count that
    # does not add up (deleted rows, late commits below the mark) rebuilds it in full.
    drift_notes: dict[str, str] = {}
    for fact, source_table in list(incremental.items()):
        ok = _carry(con, fact, source_table, source_rows.get(fact, -1))
        if not ok:
            table = extract.SOURCE_BY_NAME[source_table]
            con.execute(f"DROP TABLE stg.{source_table}")
            con.execute(f"DROP TABLE IF EXISTS stg.carry_{fact}")
            n = src.load(
                con,
                f"stg.{source_table}",
                extract.select_sql(src, table),
                extract.types_of(table),
            )
            extracted += n
            del incremental[fact]
            drift_notes[fact] = "incremental rows did not reconcile; rebuilt in full"
            progress.event("etl.incremental_drift", table=fact)
    if prev_attached:
        con.execute("DETACH prev")
    if chosen == "incremental" and not incremental:
        chosen = "full"
        reason = (
            "incremental rows did not reconcile; rebuilt in full"
            if drift_notes
            else "no incremental fact to carry over"
        )
    src.load(
        con,
        "stg.source_enrollment_by_county_grade",
        extract.ENROLLMENT_BY_COUNTY_GRADE,
        extract.ENROLLMENT_BY_COUNTY_GRADE_TYPES,
    )
    source_kind, source_desc, driver = src.kind, src.description, src.driver
    timings["extract_s"] = round(time.monotonic() - t, 3)
    pause_point("extracted")

    _reference_names(con)

    # ---------------------------------------------------------------- build
    t = time.monotonic()
    building = True

    def on_table(table: str, rows: int, kind: str) -> None:
        nonlocal building
        progress.step("build", table=table, rows=rows, build=kind)
        if building and table.startswith("fact_"):
            building = False
            pause_point("building")

    try:
        con.execute(f"ATTACH {export._lit(state.tmp_path)} AS wh")
        transform.create_tables(con)
        result = transform.build(con, staged, incremental, on_table, feeds)
        extracted += sum(result.rows[transform.FED[t]] for t in feeds)
    except duckdb.Error as exc:
        raise _duck_error(exc, "building the snapshot") from exc
    for fact_name, note in drift_notes.items():
        result.notes[fact_name] = note
    for source_name, note in skipped.items():
        result.notes.setdefault(_fact_for_source(source_name) or source_name, note)
    last_full_snapshot = (
        state.sid if chosen == "full" else str((prev or {}).get("last_full_snapshot"))
    )
    last_full_at = _iso(started) if chosen == "full" else str((prev or {}).get("last_full_at"))
    manifest = Manifest(
        snapshot_id=state.sid,
        file=state.name,
        source_kind=source_kind,
        source=source_desc,
        source_driver=driver,
        source_fingerprint=source_fp,
        as_of=_iso(as_of),
        built_at=_iso(started),
        finished_at="",
        mode=chosen,
        mode_reason=reason,
        previous_snapshot=current,
        last_full_snapshot=last_full_snapshot,
        last_full_at=last_full_at,
        code_version=code_version(),
        schema_version=schema.schema_version(),
        key_fingerprint=key_fp,
        rows=dict(result.rows),
        source_rows=dict(source_rows),
        skipped={t: n for t, n in result.notes.items() if result.build.get(t) == "skipped"},
        watermarks=watermarks,
        extracted_rows=extracted,
    )
    manifest.tables = _table_rows(result, source_rows)
    try:
        _write_meta(con, manifest, include_checks=False)
        con.execute("CHECKPOINT wh")
        con.execute("DETACH wh")
    except duckdb.Error as exc:
        raise _duck_error(exc, "writing the snapshot") from exc
    timings["build_s"] = round(time.monotonic() - t, 3)
    pause_point("built")

    # ---------------------------------------------------------------- checks
    t = time.monotonic()
    try:
        con.execute(f"ATTACH {export._lit(state.tmp_path)} AS wh (READ_ONLY)")
        results = checks.run_all(
            con,
            source_rows=source_rows,
            reconcile_map={k: v[0] for k, v in extract.RECONCILE_COUNTS.items()},
            etl_extra=_etl_extra(con),
            built=result.build,
            personal=src,
            on_check=lambda name, failed: progress.step("check", check=name, failed=failed),
        )
        con.execute("DETACH wh")
    except duckdb.Error as exc:
        raise _duck_error(exc, "checking the snapshot") from exc
    state.sources.close()  # ends the source's read transaction
    failed = checks.failures(results)
    manifest.checks = [r.to_dict() for r in results if r.status != "pass"]
    manifest.checks_summary = checks.tally(results)
    if failed:
        for r in failed:
            progress.event(
                "etl.check_failed", check=r.check, table=r.table, column=r.column, detail=r.detail
            )
        raise CheckFailed(
            f"{len(failed)} check(s) failed, snapshot not published: {checks.summary(failed)}"
        )
    timings["check_s"] = round(time.monotonic() - t, 3)

    # ---------------------------------------------------------------- publish
    t = time.monotonic()
    try:
        con.execute(f"ATTACH {export._lit(state.tmp_path)} AS wh")
        _write_meta(con, manifest, include_checks=True, results=results)
        con.execute("CHECKPOINT wh")
        con.execute("DETACH wh")
        if parquet:
            con.execute(f"ATTACH {export._lit(state.tmp_path)} AS wh (READ_ONLY)")
            state.parquet_tmp = export.export_parquet(con, "wh", root, state.sid)
            con.execute("DETACH wh")
            manifest.parquet = sorted(state.parquet_tmp)
            progress.step("export", tables=len(state.parquet_tmp))
    except duckdb.Error as exc:
        raise _duck_error(exc, "finishing the snapshot") from exc
    con.close()
    state.con = None
    pause_point("checked")
    final = root / state.name
    try:
        manifest.size_bytes = state.tmp_path.stat().st_size
        timings["publish_s"] = round(time.monotonic() - t, 3)
        timings["total_s"] = round(time.monotonic() - t0, 3)
        manifest.timings = timings
        manifest.finished_at = _iso(datetime.now(UTC))
        manifest.rows_per_second = round(extracted / max(timings["total_s"], 1e-9), 1)
        publish.write_atomically(root / publish.manifest_file(state.sid), manifest.to_json())
        os.replace(state.tmp_path, final)
        publish.fsync_dir(root)
    except OSError as exc:
        raise publish.os_error(exc, "renaming the snapshot") from exc
    pause_point("renamed")
    try:
        export.publish_parquet(state.parquet_tmp, state.sid)
        publish.write_atomically(root / publish.POINTER, state.name + "\n")
    except OSError as exc:
        raise publish.os_error(exc, "replacing CURRENT") from exc
    except EtlError:
        raise
    state.pointer_written = True
    progress.step("publish", snapshot=state.name)
    pause_point("published")
    try:
        manifest.pruned = publish.prune(root, keep)
    except OSError as exc:  # the snapshot is published; pruning is retried next run
        progress.event("etl.prune_failed", reason=str(exc))
    progress.event(
        "etl.done",
        snapshot=state.name,
        mode=manifest.mode,
        seconds=timings["total_s"],
        rows=extracted,
        rows_per_second=manifest.rows_per_second,
        pruned=manifest.pruned or None,
    )
    return manifest


# --------------------------------------------------------------------------- helpers
def _plan(src: extract.Source) -> tuple[set[str], dict[str, str]]:
    staged: set[str] = set()
    skipped: dict[str, str] = {}
    for table in extract.SOURCE_TABLES:
        missing = extract.missing_columns(src, table)
        if missing is None:
            if table.required:
                raise SourceError(
                    f"the source has no table {table.name}: is it an initialised XueJi "
                    "registry (`xueji init`)?"
                )
            skipped[table.name] = f"source table {table.name} absent"
            continue
        if missing:
            message = f"source table {table.name} lacks columns {', '.join(missing)}"
            if table.required:
                raise SourceError(message + " (migrate the registry: `xueji init`)")
            skipped[table.name] = message + " (update etl/extract.py)"
            continue
        staged.add(table.name)
    return staged, skipped


def _source_counts(
    src: extract.Source, staged: set[str]
) -> tuple[dict[str, int], dict[str, int | None]]:
    counts: dict[str, int] = {}
    for table, (source_table, sql) in extract.RECONCILE_COUNTS.items():
        if source_table in staged:
            counts[table] = src.count(sql)
    watermarks: dict[str, int | None] = {}
    for fact, (source_table, _group) in transform.INCREMENTAL_FACTS.items():
        if source_table in staged:
            watermarks[fact] = src.count(f"SELECT COALESCE(MAX(id), 0) FROM {source_table}")
    return counts, watermarks


def _rows_by_source(source_rows: dict[str, int]) -> dict[str, int]:
    return {extract.RECONCILE_COUNTS[t][0]: n for t, n in source_rows.items()}


def _incremental_fact_of(source_table: str) -> str | None:
    for fact, (table, _group) in transform.INCREMENTAL_FACTS.items():
        if table == source_table:
            return fact
    return None


def _fact_for_source(source_table: str) -> str | None:
    for table, (src, _sql) in extract.RECONCILE_COUNTS.items():
        if src == source_table:
            return table
    return None


def _delta_where(
    src: extract.Source,
    table: extract.SourceTable,
    hwm: int,
    prev: dict[str, Any] | None,
    as_of: datetime,
) -> str:
    spec = table.incremental
    assert spec is not None
    condition = f"id > {hwm}"
    if spec.reopen:
        since_prev = datetime.fromisoformat(str((prev or {}).get("as_of", _iso(as_of))))
        since = datetime.fromtimestamp(since_prev.timestamp() - REOPEN_MARGIN_SECONDS, UTC)
        reopen = spec.reopen.replace("{since}", src.timestamp_literal(since.replace(tzinfo=None)))
        condition = f"{condition} OR {reopen}"
    if spec.group:
        return f"{spec.group} IN (SELECT {spec.group} FROM {table.name} WHERE {condition})"
    return condition


def _carry(con: duckdb.DuckDBPyConnection, fact: str, source_table: str, expected: int) -> bool:
    """stg.carry_<fact>: the previous snapshot's rows that this run did not re-extract."""
    _src, group = transform.INCREMENTAL_FACTS[fact]
    if group == "request_key":
        delta_groups = (
            f"SELECT {pseudonymize.hmac_sql('status_change', 'request_id')} FROM stg.{source_table}"
        )
        con.execute(
            f"CREATE TABLE stg.carry_{fact} AS SELECT * FROM prev.{fact} "
            f"WHERE request_key NOT IN ({delta_groups}) "
            f"AND request_key IN (SELECT request_key FROM stg.request_map)"
        )
    else:
        con.execute(f"CREATE TABLE stg.carry_{fact} AS SELECT * FROM prev.{fact}")
    carried = _duck.count(con, f"SELECT COUNT(*) FROM stg.carry_{fact}")
    delta = _duck.count(con, f"SELECT COUNT(*) FROM stg.{source_table}")
    return carried + delta == expected


def _reference_names(con: duckdb.DuckDBPyConnection) -> None:
    """The public reference names (regions, schools, code labels): a value equal to one of them
    says nothing about a person, even when someone bears the same name (a school may bear a
    name; a guardian may be called 回族), so the privacy check does not look it up."""
    con.execute(
        """
CREATE TABLE stg.reference_names AS SELECT DISTINCT trim(v) AS v FROM (
    SELECT name FROM stg.region UNION ALL SELECT name FROM stg.school
    UNION ALL SELECT name_zh FROM stg.code_item UNION ALL SELECT name_en FROM stg.code_item
    UNION ALL SELECT name_zh FROM stg.code_set UNION ALL SELECT name_en FROM stg.code_set
    UNION ALL SELECT standard FROM stg.code_set
    UNION ALL SELECT name_zh FROM stg.etl_code UNION ALL SELECT name_en FROM stg.etl_code
    UNION ALL SELECT name_zh FROM stg.etl_code_set UNION ALL SELECT name_en FROM stg.etl_code_set
) t(v) WHERE v IS NOT NULL
"""
    )


def _etl_extra(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows the ETL adds to dim_code / dim_code_set beyond the registry's code tables."""
    out = {}
    for table, staged in (("dim_code", "etl_code"), ("dim_code_set", "etl_code_set")):
        out[table] = _duck.count(
            con,
            f"SELECT COUNT(*) FROM stg.{staged} "
            "WHERE code_set NOT IN (SELECT code_set FROM stg.code_set)",
        )
    return out


def _table_rows(result: transform.BuildResult, source_rows: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for table in schema.tables():
        if table.startswith("meta_"):
            continue
        source = extract.RECONCILE_COUNTS.get(table)
        out.append(
            {
                "table_name": table,
                "rows": result.rows.get(table, 0),
                "source_table": source[0] if source else None,
                "source_rows": source_rows.get(table) if source else None,
                "build": result.build.get(table, "skipped"),
                "note": result.notes.get(table),
            }
        )
    return out


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    *,
    include_checks: bool,
    results: list[checks.CheckResult] | None = None,
) -> None:
    con.execute("DELETE FROM wh.meta_manifest")
    con.execute(
        "INSERT INTO wh.meta_manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            manifest.snapshot_id,
            manifest.source_kind,
            manifest.source,
            _naive_utc(manifest.as_of),
            _naive_utc(manifest.built_at),
            manifest.mode,
            manifest.previous_snapshot,
            manifest.last_full_snapshot,
            manifest.code_version,
            manifest.schema_version,
            manifest.key_fingerprint,
            manifest.to_json(),
        ],
    )
    if not include_checks:
        _insert_columns(
            con,
            "wh.meta_table",
            [
                [r[k] for r in manifest.tables]
                for k in ("table_name", "rows", "source_table", "source_rows", "build", "note")
            ],
        )
        _insert_columns(
            con,
            "wh.meta_watermark",
            [
                list(manifest.watermarks),
                [transform.INCREMENTAL_FACTS[f][0] for f in manifest.watermarks],
                list(manifest.watermarks.values()),
            ],
        )
    else:
        rs = results or []
        _insert_columns(
            con,
            "wh.meta_check",
            [
                [r.check for r in rs],
                [r.table for r in rs],
                [r.column for r in rs],
                [r.status for r in rs],
                [r.detail for r in rs],
            ],
        )


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[list[Any]]) -> None:
    """Replace the rows of a small table in one statement (executemany is slow in DuckDB)."""
    con.execute(f"DELETE FROM {table}")
    if not columns or not columns[0]:
        return
    unnests = ", ".join(f"unnest(${i + 1})" for i in range(len(columns)))
    con.execute(f"INSERT INTO {table} SELECT {unnests}", columns)
