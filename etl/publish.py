"""The warehouse folder: snapshot names, the CURRENT pointer, the single-writer lock, atomic
writes, clean-up of interrupted runs, retention and the free-space estimate.

Layout of <warehouse>/:
    CURRENT                       one line: the file name of the current snapshot
    wh-<id>.duckdb                published snapshots (immutable), <id> sortable by time
    wh-<id>.manifest.json         their manifests
    parquet/<table>/snapshot=<id>/[province=<pp>/]*.parquet   optional export
    .etl.lock                     flock()ed by the running ETL (pid and start time inside)
    .wh-<id>.duckdb.tmp[.wal]     a snapshot being built (never read by anyone)
    .staging-<id>/                the running ETL's scratch space (spill files, CSV extracts)

A snapshot is published by os.replace() of CURRENT; everything before that step leaves the
previous snapshot current, and everything after it only removes old snapshots.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from .errors import ConfigError, LockBusy, PublishError, SpaceError

POINTER = "CURRENT"
LOCK = ".etl.lock"
SNAPSHOT_RE = re.compile(r"^wh-(\d{8}T\d{12}Z)\.duckdb$")
ID_FORMAT = "%Y%m%dT%H%M%S%fZ"


def snapshot_file(snapshot_id: str) -> str:
    return f"wh-{snapshot_id}.duckdb"


def manifest_file(snapshot_id: str) -> str:
    return f"wh-{snapshot_id}.manifest.json"


def snapshot_id_of(name: str) -> str | None:
    m = SNAPSHOT_RE.match(name)
    return m.group(1) if m else None


def new_snapshot_id(after: str | None, now: datetime | None = None) -> str:
    """A time-based id, strictly greater than `after` (clocks can step back)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    if after:
        previous = datetime.strptime(after, ID_FORMAT)
        if moment <= previous:
            moment = previous + timedelta(microseconds=1)
    return moment.strftime(ID_FORMAT)


# --------------------------------------------------------------------------- atomic files
def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: str) -> None:
    """tmp file + fsync + os.replace + fsync of the folder: readers see old or new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise os_error(exc, f"writing {path.name}") from exc


def os_error(exc: OSError, doing: str) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return SpaceError(f"the disk is full while {doing}: {exc.strerror}")
    return PublishError(f"{doing} failed: {exc.strerror or exc}")


def read_current(root: Path) -> str | None:
    """The current snapshot's file name, or None before the first publish."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if snapshot_id_of(name) else None


def published(root: Path) -> list[str]:
    """Published snapshot file names, oldest first: the files up to the current one (a file
    newer than CURRENT is from an interrupted publish and was never current)."""
    current = read_current(root)
    if current is None:
        return []
    cur_id = snapshot_id_of(current) or ""
    names = []
    for p in root.glob("wh-*.duckdb"):
        sid = snapshot_id_of(p.name)
        if sid and sid <= cur_id:
            names.append(p.name)
    return sorted(names)


# --------------------------------------------------------------------------- lock
class WarehouseLock:
    """fcntl.flock on <warehouse>/.etl.lock, non-blocking: a second ETL refuses at once. The
    kernel releases the lock when the holder dies, even by SIGKILL."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK
        self.fd: int | None = None

    def __enter__(self) -> WarehouseLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot create the lock file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise LockBusy(
                f"another ETL is running (pid {holder.get('pid', '?')}) since "
                f"{holder.get('since', '?')} on {self.path.parent}; try again when it has finished"
            ) from None
        info = json.dumps(
            {"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}
        )
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, info.encode(), 0)
        except OSError:
            pass  # the lock holds even if the note cannot be written (full disk)
        self.fd = fd
        return self

    @staticmethod
    def _holder(fd: int) -> dict[str, str]:
        try:
            data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            return {k: str(v) for k, v in data.items()}
        except (OSError, ValueError):
            return {}

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# --------------------------------------------------------------------------- clean-up
def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def cleanup_strays(root: Path) -> list[str]:
    """Remove what interrupted runs left (call with the lock held): temporary snapshot files,
    staging folders, and snapshots/manifests/Parquet partitions newer than CURRENT."""
    removed: list[str] = []
    current = read_current(root)
    cur_id = snapshot_id_of(current) if current else None
    for p in root.iterdir():
        name = p.name
        stray = (
            (name.startswith(".wh-") and ".duckdb.tmp" in name)
            or name.startswith(".staging-")
            or (name.startswith(f".{POINTER}.") and name.endswith(".tmp"))
        )
        if not stray:
            m = re.match(r"^wh-(\d{8}T\d{12}Z)\.(duckdb|manifest\.json|duckdb\.wal)$", name)
            if m and (cur_id is None or m.group(1) > cur_id):
                stray = True
        if stray:
            _remove(p)
            removed.append(name)
    parquet = root / "parquet"
    if parquet.is_dir():
        for table_dir in parquet.iterdir():
            if not table_dir.is_dir():
                continue
            for part in table_dir.iterdir():
                m = re.match(r"^\.?snapshot=(\d{8}T\d{12}Z)(\.tmp)?$", part.name)
                if not m:
                    continue
                if part.name.startswith(".") or cur_id is None or m.group(1) > cur_id:
                    _remove(part)
                    removed.append(f"parquet/{table_dir.name}/{part.name}")
    return removed


def prune(root: Path, keep: int) -> list[str]:
    """Delete published snapshots beyond the newest `keep` (never the current one). Readers that
    still have an old file open keep reading it (POSIX unlink)."""
    names = published(root)
    current = read_current(root)
    old = [n for n in names[: max(0, len(names) - keep)] if n != current]
    removed = []
    for name in old:
        sid = snapshot_id_of(name)
        assert sid is not None
        for path in (root / name, root / manifest_file(sid), root / f"{name}.wal"):
            if path.exists():
                _remove(path)
        parquet = root / "parquet"
        if parquet.is_dir():
            for table_dir in parquet.iterdir():
                part = table_dir / f"snapshot={sid}"
                if part.exists():
                    _remove(part)
        removed.append(name)
    return removed


# --------------------------------------------------------------------------- free space
# Rough bytes per source row in the compressed snapshot, the staging spill and the CSV
# extracts (whichever is written at the same time); measured on the seeded registry and
# rounded up. Tables not listed count DEFAULT_ROW_BYTES.
ROW_BYTES = {"student": 400, "enrollment": 250, "status_change_step": 200, "attendance": 120}
DEFAULT_ROW_BYTES = 150
MARGIN_BYTES = 64 * 1024 * 1024


def estimate_bytes(source_rows: dict[str, int]) -> int:
    total = sum(ROW_BYTES.get(t, DEFAULT_ROW_BYTES) * n for t, n in source_rows.items())
    return 2 * total + MARGIN_BYTES


def free_bytes(root: Path) -> int:
    return shutil.disk_usage(root).free


def check_free_space(root: Path, source_rows: dict[str, int]) -> int:
    need = estimate_bytes(source_rows)
    have = free_bytes(root)
    if have < need:
        raise SpaceError(
            f"not enough free disk space in {root}: the snapshot needs about "
            f"{need / 2**20:,.0f} MiB, {have / 2**20:,.0f} MiB are free"
        )
    return need
