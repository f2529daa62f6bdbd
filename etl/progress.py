"""Progress of an ETL run: a tqdm bar when stderr is a terminal, one JSON line per step
otherwise; and the test hook XUEJI_ETL_TEST_PAUSE_AT (inert unless set)."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

PAUSE_ENV = "XUEJI_ETL_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "XUEJI_ETL_TEST_PAUSE_SECONDS"


class Progress:
    """Reports steps. `step()` records one unit of work (extract a table, build a table, run
    a check, …); `event()` logs something without advancing."""

    def __init__(self, stream: IO[str] | None = None, *, bar: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if bar is None:
            isatty = getattr(self.stream, "isatty", None)
            bar = bool(isatty and isatty())
        self.bar_enabled = bar
        self._bar: Any = None
        self._t0 = time.monotonic()
        self._last = self._t0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, total: int) -> None:
        if self.bar_enabled and self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self.stream, unit="step", leave=True)

    def close(self, complete: bool = False) -> None:
        if self._bar is not None:
            if complete:
                self._bar.total = self._bar.n  # the plan is an estimate; end at 100 %
                self._bar.refresh()
            self._bar.close()
            self._bar = None

    # -- reporting -------------------------------------------------------------------------
    def step(self, step: str, table: str | None = None, **fields: Any) -> None:
        now = time.monotonic()
        seconds = round(now - self._last, 3)
        self._last = now
        if self._bar is not None:
            label = f"{step} {table}" if table else step
            self._bar.set_description_str(label[:40])
            rows = fields.get("rows")
            self._bar.set_postfix_str(f"{rows:,} rows" if isinstance(rows, int) else "")
            self._bar.update(1)
            return
        self._emit("etl.step", step=step, table=table, seconds=seconds, **fields)

    def event(self, event: str, **fields: Any) -> None:
        if self._bar is not None:
            message = " ".join(f"{k}={v}" for k, v in fields.items())
            self._bar.write(f"{event} {message}".rstrip(), file=self.stream)
            return
        self._emit(event, **fields)

    def _emit(self, event: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": event,
        }
        record.update({k: v for k, v in fields.items() if v is not None})
        self.stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()


class NullProgress(Progress):
    """Reports nothing (library use)."""

    def __init__(self) -> None:
        super().__init__(stream=open(os.devnull, "w"), bar=False)  # noqa: SIM115

    def _emit(self, event: str, **fields: Any) -> None:
        return


def pause_point(step: str) -> None:
    """Test hook: with XUEJI_ETL_TEST_PAUSE_AT=<step>, announce the step on stderr and sleep so a
    test can kill the process exactly there. Does nothing unless the variable is set."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted or wanted != step:
        return
    sys.stderr.write(
        json.dumps({"event": "etl.test_pause", "step": step, "pid": os.getpid()}) + "\n"
    )
    sys.stderr.flush()
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "300")))
