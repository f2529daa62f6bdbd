"""Refreshing the warehouse snapshot from the web: `xueji etl` in the background, with progress.

The web process never runs the ETL itself. `start()` launches this module as a detached
wrapper process (`python -m dashboards.refresh --data-dir D`), which

* takes `D/.etl-refresh.lock` (flock, non-blocking): one refresh from the web at a time; the
  ETL's own `.etl.lock` in the warehouse still guards against an ETL started elsewhere
  (it exits 3, which the log then shows);
* runs `xueji etl --log json` (the public CLI, which also supplies the installation's
  pseudonym key) with the registry URL and the warehouse folder in its environment, never on
  its command line;
* copies the ETL's JSON progress lines (stderr) into `D/etl-refresh.log` as they come, and
  ends the log with `{"event": "refresh.exit", "rc": N}`.

`status()` reads that log (any web worker can, so progress survives a load balancer) and
tells whether the wrapper still holds its lock.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_FILE = ".etl-refresh.lock"
START_LOCK_FILE = ".etl-refresh.start.lock"
LOG_FILE = "etl-refresh.log"
LAST_FILE = "etl-refresh.last.json"
# The pipeline plans about this many steps (17 source tables + 23 builds + checks and
# publishing); the previous successful run's count replaces it when there is one.
DEFAULT_EXPECTED_STEPS = 54
QUEUED_GRACE_SECONDS = 20


class RefreshBusy(RuntimeError):
    """A refresh started from the web is still running."""


@dataclass
class RefreshStatus:
    state: str = "idle"  # idle | running | done | failed | interrupted (queued: internal)
    started_at: str | None = None
    started_by: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    expected_steps: int = DEFAULT_EXPECTED_STEPS
    exit_code: int | None = None
    error: str | None = None
    snapshot: str | None = None
    finished_at: str | None = None

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.steps:
            return 0
        return min(99, round(100 * len(self.steps) / max(self.expected_steps, 1)))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _lock_held(data_dir: Path) -> bool:
    """Does a wrapper hold the refresh lock right now?"""
    path = data_dir / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def start(
    *,
    data_dir: str | os.PathLike[str],
    warehouse_dir: str | os.PathLike[str],
    database_url: str,
    user: str,
    extra_env: Mapping[str, str] | None = None,
) -> int:
    """Launch a refresh in the background and return the wrapper's pid (RefreshBusy if one
    is running)."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Two clicks (or two workers) at once: the check and the fresh log are one step.
    with open(folder / START_LOCK_FILE, "a") as gate:
        fcntl.flock(gate, fcntl.LOCK_EX)
        if _lock_held(folder) or status(folder).state == "running":
            raise RefreshBusy("a refresh is already running")
        # A fresh log at once, so that every worker shows the refresh as starting.
        with open(folder / LOG_FILE, "w", encoding="utf-8") as log:
            _write(log, {"ts": _now(), "event": "refresh.queued", "user": user})
    env = dict(os.environ)
    env.update(extra_env or {})
    env.update(
        {
            "XUEJI_DATA_DIR": str(folder),
            "XUEJI_DATABASE_URL": database_url,
            "XUEJI_WAREHOUSE_DIR": str(warehouse_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboards.refresh", "--data-dir", str(folder), "--user", user],
        env=env,
        cwd=str(root),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # survives the request, and a worker restart
    )
    # Reap it when it ends (no zombie under a long-lived worker).
    threading.Thread(target=proc.wait, name="xueji-refresh-reaper", daemon=True).start()
    return proc.pid


def _write(log: Any, record: dict[str, Any]) -> None:
    log.write(json.dumps(record, ensure_ascii=False) + "\n")
    log.flush()


def run_wrapper(data_dir: Path, user: str, etl_args: list[str]) -> int:
    """The wrapper process: lock, run `xueji etl`, log its progress, record the exit code."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir / LOCK_FILE, "a")  # noqa: SIM115  (held for the process lifetime)
    # status() probes the lock for an instant now and then: retry briefly before giving up.
    for attempt in range(30):
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if attempt == 29:
                return 3
            time.sleep(0.1)
    log_path = data_dir / LOG_FILE
    with open(log_path, "w", encoding="utf-8") as log:
        _write(log, {"ts": _now(), "event": "refresh.start", "user": user, "pid": os.getpid()})
        cmd = [sys.executable, "-m", "admin.cli", "etl", "--log", "json", *etl_args]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert proc.stdout is not None
        steps = 0
        for line in proc.stdout:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError
            except ValueError:
                record = {"ts": _now(), "event": "refresh.output", "text": line[:500]}
            if record.get("event") == "etl.step":
                steps += 1
            _write(log, record)
        rc = proc.wait()
        _write(log, {"ts": _now(), "event": "refresh.exit", "rc": rc})
    if rc == 0:
        (data_dir / LAST_FILE).write_text(json.dumps({"steps": steps, "finished_at": _now()}))
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    return rc


def status(data_dir: str | os.PathLike[str]) -> RefreshStatus:
    """What the last refresh started from the web did, read from its log."""
    folder = Path(data_dir)
    result = RefreshStatus()
    try:
        last = json.loads((folder / LAST_FILE).read_text())
        result.expected_steps = max(int(last.get("steps") or 0), 1)
    except (OSError, ValueError):
        pass
    try:
        lines = (folder / LOG_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return result
    outputs: list[str] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event = record.get("event")
        if event == "refresh.queued":
            result.started_at = record.get("ts")
            result.started_by = record.get("user")
            result.state = "queued"
        elif event == "refresh.start":
            result.started_at = record.get("ts")
            result.started_by = record.get("user")
            result.state = "running"
        elif event == "etl.step":
            result.steps.append(record)
        elif event == "etl.done":
            result.snapshot = record.get("snapshot")
        elif event == "refresh.output":
            outputs.append(str(record.get("text", "")))
        elif event == "refresh.exit":
            result.exit_code = int(record.get("rc", 1))
            result.finished_at = record.get("ts")
            result.state = "done" if result.exit_code == 0 else "failed"
    errors = [o for o in outputs if "error" in o.lower()]
    if result.state == "failed":
        result.error = (errors or outputs or [f"exit code {result.exit_code}"])[-1]
    elif result.state == "running" and not _lock_held(folder):
        result.state = "interrupted"
    elif result.state == "queued":
        # The wrapper has not taken its lock yet; give it a little while to start.
        age = _age_seconds(result.started_at)
        result.state = "running" if age < QUEUED_GRACE_SECONDS else "interrupted"
    return result


def _age_seconds(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()
    except ValueError:
        return float("inf")


def wait(data_dir: str | os.PathLike[str], timeout: float = 120) -> RefreshStatus:
    """Block until the refresh ends (tests and scripts)."""
    deadline = time.monotonic() + timeout
    while True:
        current = status(data_dir)
        if current.state in ("done", "failed", "interrupted", "idle") or (
            time.monotonic() > deadline
        ):
            return current
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.refresh")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--user", default="-")
    args, etl_args = parser.parse_known_args(argv)
    return run_wrapper(Path(args.data_dir), args.user, etl_args)


if __name__ == "__main__":
    sys.exit(main())
