"""The metric catalog: one SQL file per metric in `analytics/metrics/`, each starting with a
header of `-- key: value` comment lines (several may share a line, separated by ` | `; a
comment line without a key continues the previous value):

    -- metric: enrollment_by_region
    -- title_zh: 各地区在校生数 | title_en: Students enrolled by region
    -- description_zh: … | description_en: …
    -- grain: one row per school year × region (level chosen by :level) × stage
    -- params: school_year, stage, region, school, level
    -- dimensions: school_year, region_code, region_name, stage
    -- measures: students
    -- unit: students
    -- suppress: students                       measures counting people: 1-4 → "<5"
    -- withhold: share <- students within school_year, region_code
                                                measures hidden (None) when a source is "<5"; with
                                                `within`, in every row of the group (the other
                                                shares of a group would give the hidden count back)
    -- sources: agg_enrollment, dim_school, …   tables read (checked against the SQL by tests)
    -- notes: …                                 optional: caveats, missing rollups

`load_catalog()` parses and checks them once per process.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import CatalogError
from .params import PARAMETERS, SCOPE_PLACEHOLDERS

__all__ = [
    "METRICS_DIR",
    "Metric",
    "catalog_markdown",
    "load_catalog",
    "parse_metric",
    "placeholders",
]

METRICS_DIR = Path(str(resources.files("analytics") / "metrics"))

REQUIRED = (
    "metric",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "grain",
    "params",
    "dimensions",
    "measures",
    "unit",
    "sources",
)
OPTIONAL = ("suppress", "withhold", "notes")
KEYS = REQUIRED + OPTIONAL
_KEY_LINE = re.compile(r"(" + "|".join(KEYS) + r"):(?:\s+|$)(.*)")
_SPLIT = re.compile(r"\s+\|\s+(?=(?:" + "|".join(KEYS) + r"):)")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Metric:
    name: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    grain: str
    params: tuple[str, ...]
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    unit: str
    sql: str
    # Beyond the dashboards contract (all have defaults):
    suppress: tuple[str, ...] = ()  # measures counting people: 1-4 become "<5"
    withhold: tuple[tuple[str, tuple[str, ...]], ...] = ()  # measure <- counts it reveals
    # (measure, counts, group dimensions): a small count anywhere in the group hides the
    # measure in all of the group's rows (shares of a whole).
    withhold_groups: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    sources: tuple[str, ...] = ()  # warehouse tables the SQL reads
    notes: str = ""
    placeholders: frozenset[str] = field(default_factory=frozenset)  # $names in the SQL

    @property
    def columns(self) -> tuple[str, ...]:
        """Result columns, in order: the dimensions, then the measures."""
        return self.dimensions + self.measures

    @property
    def reads_facts(self) -> bool:
        """The SQL reads a fact table (no rollup serves it yet)."""
        return any(s.startswith("fact_") for s in self.sources)


def placeholders(sql: str) -> frozenset[str]:
    """Named parameters ($name) used by the SQL, comments ignored."""
    return frozenset(_PLACEHOLDER.findall(_LINE_COMMENT.sub("", sql)))


def _join(text: str, more: str) -> str:
    """Continue a header value: Chinese text runs on without a space."""
    if text and not text[-1].isascii() and not more[0].isascii():
        return text + more
    return f"{text} {more}".strip()


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_metric(text: str, origin: str = "<string>") -> Metric:
    """Parse one metric file (header + SQL) and check it; raises CatalogError."""
    header: dict[str, str] = {}
    last: str | None = None
    lines = text.splitlines()
    body_start = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            body_start = i
            break
        content = stripped[2:].strip()
        for segment in _SPLIT.split(content):
            m = _KEY_LINE.fullmatch(segment.strip())
            if m:
                last = m.group(1)
                if last in header:
                    raise CatalogError(f"{origin}: header field {last} given twice")
                header[last] = m.group(2).strip()
            elif last is not None and segment.strip():
                header[last] = _join(header[last], segment.strip())
            elif segment.strip():
                raise CatalogError(f"{origin}: header line without a field: {line!r}")
    missing = [k for k in REQUIRED if not header.get(k)]
    if missing:
        raise CatalogError(f"{origin}: header lacks {', '.join(missing)}")
    sql = "\n".join(lines[body_start:]).strip()
    if not sql:
        raise CatalogError(f"{origin}: no SQL after the header")

    name = header["metric"]
    if not _NAME.fullmatch(name):
        raise CatalogError(f"{origin}: bad metric name {name!r}")
    params = _names(header["params"])
    unknown = [p for p in params if p not in PARAMETERS]
    if unknown:
        raise CatalogError(f"{origin}: unknown params {', '.join(unknown)}")
    dimensions = _names(header["dimensions"])
    measures = _names(header["measures"])
    if not measures:
        raise CatalogError(f"{origin}: no measures")
    suppress = _names(header.get("suppress", ""))
    stray = [c for c in suppress if c not in measures]
    if stray:
        raise CatalogError(f"{origin}: suppress names non-measures {', '.join(stray)}")
    withhold: list[tuple[str, tuple[str, ...]]] = []
    groups: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for part in header.get("withhold", "").split(";"):
        if not part.strip():
            continue
        target, arrow, rest = part.partition("<-")
        target = target.strip()
        deps, within, group = rest.partition(" within ")
        counts = _names(deps)
        if not arrow or target not in measures or not counts:
            raise CatalogError(f"{origin}: bad withhold entry {part.strip()!r}")
        bad = [c for c in counts if c not in suppress]
        if bad:
            raise CatalogError(f"{origin}: withhold {target} depends on non-counts {bad}")
        withhold.append((target, counts))
        if within:
            dims = _names(group)
            if not dims or any(d not in dimensions for d in dims):
                raise CatalogError(f"{origin}: withhold {target} within non-dimensions {dims}")
            groups.append((target, counts, dims))

    used = placeholders(sql)
    for scope_name in SCOPE_PLACEHOLDERS:
        if scope_name not in used:
            raise CatalogError(f"{origin}: SQL does not filter on ${scope_name}")
    bound = {p for p in params if PARAMETERS[p].bound}
    undeclared = used - bound - set(SCOPE_PLACEHOLDERS)
    if undeclared:
        raise CatalogError(f"{origin}: SQL uses undeclared ${', $'.join(sorted(undeclared))}")
    unused = bound - used
    if unused:
        raise CatalogError(f"{origin}: declared params not used in the SQL: {sorted(unused)}")
    return Metric(
        name=name,
        title_zh=header["title_zh"],
        title_en=header["title_en"],
        description_zh=header["description_zh"],
        description_en=header["description_en"],
        grain=header["grain"],
        params=params,
        dimensions=dimensions,
        measures=measures,
        unit=header["unit"],
        sql=sql,
        suppress=suppress,
        withhold=tuple(withhold),
        withhold_groups=tuple(groups),
        sources=_names(header["sources"]),
        notes=header.get("notes", ""),
        placeholders=used,
    )


@functools.lru_cache(maxsize=1)
def _load() -> tuple[Metric, ...]:
    metrics = []
    for path in sorted(METRICS_DIR.glob("*.sql")):
        metric = parse_metric(path.read_text(encoding="utf-8"), origin=path.name)
        if metric.name != path.stem:
            raise CatalogError(f"{path.name}: header names metric {metric.name}")
        metrics.append(metric)
    return tuple(metrics)


def load_catalog() -> dict[str, Metric]:
    """Every metric, by name (a new dict each call; the metrics are immutable)."""
    return {m.name: m for m in _load()}


def catalog_markdown(lang: str = "en") -> str:
    """The catalog as a Markdown table (name, title, description, grain, parameters)."""
    lines = [
        "| metric | title | description | grain | params | measures |",
        "|---|---|---|---|---|---|",
    ]
    for m in _load():
        title = m.title_zh if lang == "zh" else m.title_en
        text = m.description_zh if lang == "zh" else m.description_en
        lines.append(
            f"| `{m.name}` | {title} | {text} | {m.grain} | {', '.join(m.params)} "
            f"| {', '.join(m.measures)} |"
        )
    return "\n".join(lines)
