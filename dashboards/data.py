"""Reading metrics for a page: the global filter selection, checked against the user's scope,
and a cached call of `analytics.engine.run_metric`.

Every value that arrives from the browser (a dropdown value, a store, a component id) is
untrusted: `selection_from()` checks types and formats (400 otherwise) and narrows the user's
scope (403 when a region or school lies outside it), and `fetch()` turns the analytics
layer's own refusals into the same HTTP answers, so a crafted callback never gets data.
The cache key is `analytics.cache.cache_key(snapshot, scope, metric, params)`: it never
depends on who is asking, only on what they may see.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import abort

from analytics.cache import cache_key
from analytics.catalog import Metric, load_catalog
from analytics.engine import BadParameter, MetricResult, UnknownMetric
from analytics.scope import AnalyticsScope, ScopeViolation
from analytics.warehouse import Warehouse

from .context import analytics_scope, runtime

log = logging.getLogger("xueji.dashboards")

STAGES = ("primary", "junior", "senior")
_YEAR = re.compile(r"([12][0-9]{3})-([12][0-9]{3})")
_REGION = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")
_SCHOOL = re.compile(r"[0-9]{10}")
TIMEZONE = "Asia/Shanghai"


class FilterError(ValueError):
    """A filter value is malformed (answered with 400)."""


class NoSnapshotYet(LookupError):
    """The warehouse has no published snapshot."""


@dataclass(frozen=True)
class Selection:
    """The global filters, checked: school year, region prefix ("" = the whole scope),
    school code, stage; and the user's scope narrowed to them."""

    school_year: str | None
    region: str
    school: str | None
    stage: str | None
    scope: AnalyticsScope  # the user's own scope
    narrowed: AnalyticsScope  # narrowed to region / school

    def params(self, metric: Metric, **extra: Any) -> dict[str, Any]:
        """The parameters of `metric` this selection sets (only those it declares)."""
        values: dict[str, Any] = {
            "school_year": self.school_year,
            "stage": self.stage,
            "region": self.region or None,
            "school": self.school,
            **extra,
        }
        return {k: v for k, v in values.items() if k in metric.params and v not in (None, "")}

    @property
    def level(self) -> str:
        return self.narrowed.level


def _text_or_none(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FilterError(f"{name} must be a string")
    return value


def selection_from(
    school_year: Any = None,
    region: Any = None,
    school: Any = None,
    stage: Any = None,
    scope: AnalyticsScope | None = None,
) -> Selection:
    """Check the filter values from the browser and narrow the user's scope to them.
    FilterError / BadParameter (→ 400), ScopeViolation (→ 403)."""
    if scope is None:
        scope = analytics_scope()
    if scope is None:
        raise ScopeViolation("no statistics scope")
    year = _text_or_none("school_year", school_year)
    if year is not None:
        m = _YEAR.fullmatch(year)
        if m is None or int(m.group(2)) != int(m.group(1)) + 1:
            raise FilterError("school_year must look like 2026-2027")
    reg = _text_or_none("region", region) or ""
    if reg and _REGION.fullmatch(reg) is None:
        raise FilterError("region must be a 2-, 4- or 6-digit code prefix")
    sch = _text_or_none("school", school)
    if sch is not None and _SCHOOL.fullmatch(sch) is None:
        raise FilterError("school must be a 10-digit code")
    stg = _text_or_none("stage", stage)
    if stg is not None and stg not in STAGES:
        raise FilterError("stage must be primary, junior or senior")
    # A region filter may not widen the scope: "64" for a user of "640302" is refused even
    # though every row it would return lies inside 640302.
    if reg and not reg.startswith(scope.region_prefix):
        raise ScopeViolation(f"region {reg} is outside the scope")
    narrowed = scope.narrow(reg or None, sch)
    return Selection(year, reg, sch, stg, scope, narrowed)


def selection_from_store(data: Any, scope: AnalyticsScope | None = None) -> Selection:
    """The Selection from the `xj-filters` store of the page shell (a dict)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise FilterError("filters must be an object")
    unknown = set(data) - {"school_year", "region", "school", "stage"}
    if unknown:
        raise FilterError(f"unknown filters {sorted(unknown)}")
    return selection_from(
        data.get("school_year"), data.get("region"), data.get("school"), data.get("stage"), scope
    )


# --- errors → HTTP ---------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def http_errors() -> Iterator[None]:
    """Malformed input → 400, out of scope → 403 (never a figure)."""
    try:
        yield
    except ScopeViolation as exc:
        log.warning("dashboards: refused out-of-scope request: %s", exc)
        abort(403)
    except (FilterError, BadParameter, UnknownMetric) as exc:
        log.info("dashboards: refused malformed request: %s", exc)
        abort(400)


def guarded(func: F) -> F:
    """Decorator for callbacks: analytics refusals become 400/403."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with http_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- snapshot and metrics ---------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    snapshot_id: str
    as_of: str  # ISO UTC from the manifest
    as_of_local: str  # "2026-11-29 08:48" in Beijing time


def snapshot_info() -> SnapshotInfo | None:
    store = runtime().store
    name = store.current_name()
    if name is None:
        return None
    cache = runtime().cache
    key = f"xueji:snapshot-info:{name}"
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    try:
        manifest = store.manifest(name)
    except Exception:  # a manifest that cannot be read should not break the page
        manifest = {}
    as_of = str(manifest.get("as_of") or "")
    info = SnapshotInfo(
        name=name,
        snapshot_id=str(manifest.get("snapshot_id") or name),
        as_of=as_of,
        as_of_local=local_time(as_of),
    )
    cache.set(key, info)
    return info


def local_time(stamp: str) -> str:
    """An ISO UTC time as Beijing time, minutes precision ("" if unreadable)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M")


def metric(name: str) -> Metric:
    found = load_catalog().get(name) if isinstance(name, str) else None
    if found is None:
        raise UnknownMetric(f"unknown metric {name!r}")
    return found


def fetch(name: str, sel: Selection, **extra: Any) -> MetricResult:
    """Run metric `name` for the selection (plus metric-specific parameters), cached per
    (snapshot, scope, metric, params). NoSnapshotYet when there is no snapshot."""
    info = snapshot_info()
    if info is None:
        raise NoSnapshotYet("no warehouse snapshot")
    m = metric(name)
    params = sel.params(m, **extra)
    # Region and school travel as parameters when the metric takes them (the engine narrows
    # and checks the school's county); otherwise the already-narrowed scope carries them.
    takes_region = "region" in m.params and "school" in m.params
    scope = sel.scope if takes_region else sel.narrowed
    rt = runtime()
    key = cache_key(info.snapshot_id, scope, m.name, params)
    hit = rt.cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    result = Warehouse(rt.store).run(m.name, scope, params)
    rt.cache.set(key, result)
    return result


def records(result: MetricResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def school_years() -> list[str]:
    """School years of the snapshot, oldest first (from the enrollment trend metric, which
    lists every year of the snapshot)."""
    scope = analytics_scope()
    if scope is None:
        return []
    sel = selection_from(scope=scope)
    try:
        result = fetch("enrollment_trend", sel)
    except NoSnapshotYet:
        return []
    seen: list[str] = []
    for row in records(result):
        year = row.get("school_year")
        if isinstance(year, str) and year not in seen:
            seen.append(year)
    return seen
