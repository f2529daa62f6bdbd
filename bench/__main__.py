"""Benchmark runner.

    python -m bench                      run every benchmark with its default options
    python -m bench seed --students N,M  run one benchmark, passing the rest of argv to it
    python -m bench --list               name the benchmarks

A benchmark is a module bench/<name>.py exposing `main(argv: list[str]) -> int`; add one by
listing its name in BENCHMARKS (in the order `make bench` should run them).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Sequence

BENCHMARKS: tuple[str, ...] = (
    "seed",
    "admin",
    "lifecycle",
    "importing",
    "etl",
    "academics",
    "dashboards",
)

USAGE = __doc__ or ""


def run(name: str, argv: Sequence[str]) -> int:
    """Import bench.<name> and call its main(argv); return its exit status."""
    module = importlib.import_module(f"{__package__ or 'bench'}.{name}")
    started = time.perf_counter()
    print(f"== bench {name} {' '.join(argv)}".rstrip(), file=sys.stderr, flush=True)
    status = int(module.main(list(argv)) or 0)
    elapsed = time.perf_counter() - started
    print(f"== bench {name}: exit {status} after {elapsed:.1f} s", file=sys.stderr, flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(USAGE.strip())
        print("\nbenchmarks: " + ", ".join(BENCHMARKS))
        return 0
    if args and args[0] == "--list":
        print("\n".join(BENCHMARKS))
        return 0
    if args:
        name, rest = args[0], args[1:]
        if name not in BENCHMARKS:
            print(
                f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}",
                file=sys.stderr,
            )
            return 2
        return run(name, rest)

    failed: list[str] = []
    for name in BENCHMARKS:
        try:
            status = run(name, [])
        except Exception as exc:  # keep going: one broken benchmark must not hide the others
            print(f"== bench {name}: crashed: {exc!r}", file=sys.stderr, flush=True)
            status = 1
        if status:
            failed.append(name)
    if failed:
        print(f"== failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
