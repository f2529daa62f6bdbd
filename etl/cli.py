"""`xueji etl` command line: `run_etl(argv) -> exit code`. The lead wires it into admin.cli;
`python -m etl` runs it directly.

Exit codes: 0 published; 1 unexpected error; 2 configuration (key, arguments, folder);
3 another ETL is running; 4 source unreachable or unreadable; 5 a check failed; 6 not enough
disk space; 7 writing or publishing failed. A failure prints one line on stderr (no traceback
unless --debug) and leaves the current snapshot current.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

from .errors import EtlError
from .progress import Progress


def _default_data_dir() -> Path:
    return Path(os.environ.get("XUEJI_DATA_DIR", "./var")).expanduser().resolve()


def default_source_url() -> str:
    url = os.environ.get("XUEJI_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{_default_data_dir() / 'xueji.db'}"


def default_warehouse_dir() -> Path:
    default = _default_data_dir() / "warehouse"
    return Path(os.environ.get("XUEJI_WAREHOUSE_DIR", str(default))).expanduser().resolve()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"xueji etl: error: {name} must be an integer (got {value!r})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xueji etl",
        description=(
            "Copy the registry into a new pseudonymised warehouse snapshot, check it and "
            "publish it (the only writer of the warehouse)."
        ),
    )
    parser.add_argument(
        "--source",
        help="operational database URL (default: XUEJI_DATABASE_URL, else SQLite under "
        "XUEJI_DATA_DIR)",
    )
    parser.add_argument(
        "--warehouse",
        help="warehouse folder (default: XUEJI_WAREHOUSE_DIR or <data dir>/warehouse)",
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=None,
        help="published snapshots to keep (default: XUEJI_WAREHOUSE_KEEP or 5)",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "full", "incremental"),
        default="auto",
        help="auto: incremental for append-only facts, full rebuild every --full-every-days; "
        "full: rebuild everything; incremental: incremental whenever possible",
    )
    parser.add_argument(
        "--full-every-days",
        type=float,
        default=None,
        help="periodic full rebuild in auto mode (default: XUEJI_ETL_FULL_EVERY_DAYS or 7)",
    )
    parser.add_argument(
        "--parquet", action="store_true", help="also export hive-partitioned Parquet"
    )
    parser.add_argument(
        "--pg-driver",
        choices=("auto", "adbc", "copy"),
        default=os.environ.get("XUEJI_ETL_PG_DRIVER", "auto"),
        help="PostgreSQL extraction: adbc (Arrow stream, default when installed) or copy "
        "(psycopg COPY CSV)",
    )
    parser.add_argument(
        "--connect-timeout", type=int, default=10, help="seconds to wait for PostgreSQL"
    )
    parser.add_argument(
        "--memory-limit",
        help="DuckDB memory of the ETL, e.g. 4GB (default: XUEJI_ETL_MEMORY_LIMIT or 256MB; "
        "beyond it DuckDB spills to disk)",
    )
    parser.add_argument("--threads", type=int, help="DuckDB threads of the ETL")
    parser.add_argument(
        "--log",
        choices=("auto", "bar", "json"),
        default="auto",
        help="progress bar on a terminal, JSON lines otherwise (auto)",
    )
    parser.add_argument(
        "--print-manifest", action="store_true", help="print the manifest JSON on stdout"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def run_etl(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import pipeline
    from .pseudonymize import key_from_env

    progress = Progress(bar=None if args.log == "auto" else args.log == "bar")
    try:
        with _terminate_as_interrupt():
            manifest = pipeline.run(
                args.source or default_source_url(),
                args.warehouse or default_warehouse_dir(),
                pseudonym_key=key_from_env(),
                keep=args.keep if args.keep is not None else _env_int("XUEJI_WAREHOUSE_KEEP", 5),
                mode=args.mode,
                progress=progress,
                parquet=args.parquet,
                pg_driver=args.pg_driver,
                full_every_days=(
                    args.full_every_days
                    if args.full_every_days is not None
                    else _env_int("XUEJI_ETL_FULL_EVERY_DAYS", 7)
                ),
                connect_timeout=args.connect_timeout,
                memory_limit=args.memory_limit,
                threads=args.threads,
            )
    except EtlError as exc:
        progress.close()
        if args.debug:
            traceback.print_exc()
        print(f"xueji etl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        progress.close()
        print("xueji etl: error: interrupted; the current snapshot is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, the traceback with --debug
        progress.close()
        if args.debug:
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(
            f"xueji etl: error: unexpected {type(exc).__name__}: {first} "
            "(the current snapshot is unchanged; rerun with --debug for details)",
            file=sys.stderr,
        )
        return 1
    if args.print_manifest:
        print(manifest.to_json())
    else:
        print(
            f"published {manifest.file} ({manifest.mode}, {manifest.extracted_rows:,} source rows "
            f"in {manifest.timings.get('total_s', 0):.1f} s)"
        )
    return 0


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the ETL runs, SIGTERM (systemd stop, kill) unwinds like Ctrl-C, so the run
    removes its temporary files; SIGKILL cannot be caught, and the next run removes them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    sys.exit(run_etl(sys.argv[1:]))
