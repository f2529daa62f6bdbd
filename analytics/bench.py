"""Latency of every metric on a warehouse: `python -m analytics.bench WAREHOUSE_DIR [--runs N]
[--scope PREFIX]`. Prints one line per metric (rows, cold and median warm milliseconds) and
a JSON summary with --json. Each run takes a new cursor, as a request does."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from .catalog import load_catalog
from .scope import AnalyticsScope
from .warehouse import Warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.bench")
    parser.add_argument("warehouse")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--scope", default="", help="region prefix of the caller (default national)"
    )
    parser.add_argument("--school", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    config = {"threads": args.threads} if args.threads else None
    wh = Warehouse(args.warehouse, config)
    scope = AnalyticsScope(args.scope, args.school)
    report = []
    for name in sorted(load_catalog()):
        times = []
        rows = 0
        for _ in range(max(args.runs, 1) + 1):
            start = time.perf_counter()
            result = wh.run(name, scope)
            times.append((time.perf_counter() - start) * 1000)
            rows = len(result.rows)
        cold, warm = times[0], statistics.median(times[1:])
        report.append({"metric": name, "rows": rows, "cold_ms": cold, "warm_ms": warm})
        if not args.json:
            print(f"{name:34s} rows={rows:6d} cold={cold:8.1f} ms warm={warm:8.1f} ms")
    if args.json:
        json.dump({"snapshot": wh.current_snapshot(), "metrics": report}, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
