"""Cache keys for metric results, for the dashboards' Flask-Caching (no Flask here).

A result depends on exactly (snapshot, scope, metric, parameters): the snapshot id changes
with every ETL run, so entries of an old snapshot are simply never asked for again and expire.
Keys are stable across processes (SHA-256 of a canonical JSON, not Python's salted hash()), so
a shared Redis cache works for every gunicorn worker.

    from analytics.cache import cache_key, make_cache_key

    @cache.cached(timeout=3600, make_cache_key=make_cache_key)
    def fetch(snapshot, scope, metric, params=None):
        return warehouse.run(metric, scope, params)

or with `@cache.memoize()` on a function taking `memo_args(snapshot, scope, metric, params)`
(hashable, order-independent arguments).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from .scope import AnalyticsScope

__all__ = ["KEY_PREFIX", "cache_key", "make_cache_key", "memo_args", "normalize_params"]

KEY_PREFIX = "xueji:analytics:"


def _value(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_params(params: Mapping[str, object] | None) -> tuple[tuple[str, str], ...]:
    """Parameters sorted by name, values as text; None and "" (= the default) dropped, so
    {"stage": None} and {} give the same key."""
    if not params:
        return ()
    return tuple(
        sorted((str(k), _value(v)) for k, v in params.items() if v is not None and v != "")
    )


def memo_args(
    snapshot: str,
    scope: AnalyticsScope,
    metric: str,
    params: Mapping[str, object] | None = None,
) -> tuple[str, str, str, str, tuple[tuple[str, str], ...]]:
    """Hashable positional arguments with a deterministic repr, for `cache.memoize()`:
    (snapshot, region prefix, school code or "", metric, sorted params)."""
    return (
        snapshot,
        scope.region_prefix,
        scope.school_code or "",
        metric,
        normalize_params(params),
    )


def cache_key(
    snapshot: str,
    scope: AnalyticsScope,
    metric: str,
    params: Mapping[str, object] | None = None,
) -> str:
    """`xueji:analytics:<metric>:<sha256>` of (snapshot, scope, metric, sorted params)."""
    payload = json.dumps(
        {
            "snapshot": snapshot,
            "region_prefix": scope.region_prefix,
            "school_code": scope.school_code,
            "metric": metric,
            "params": normalize_params(params),
        },
        sort_keys=True,
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return f"{KEY_PREFIX}{metric}:{hashlib.sha256(payload.encode('ascii')).hexdigest()}"


def make_cache_key(*args: Any, **kwargs: Any) -> str:
    """`make_cache_key=` for Flask-Caching's `cached()`: called with the decorated function's
    arguments, which must be (snapshot, scope, metric, params=None), positionally or by name."""
    names = ("snapshot", "scope", "metric", "params")
    values: dict[str, Any] = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in names:
            values[key] = value
    missing = [n for n in names[:3] if n not in values]
    if missing:
        raise TypeError(f"make_cache_key needs {', '.join(missing)}")
    scope = values["scope"]
    if not isinstance(scope, AnalyticsScope):
        raise TypeError("scope must be an AnalyticsScope")
    return cache_key(str(values["snapshot"]), scope, str(values["metric"]), values.get("params"))
