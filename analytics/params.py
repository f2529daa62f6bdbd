"""Parameters a metric may declare, their validation and the SQL placeholders they bind.

Values are checked against a strict pattern or a closed list and then bound as DuckDB named
parameters (`$name`); nothing a caller passes is ever formatted into SQL. `region` and
`school` are not bound directly: they narrow the scope (`AnalyticsScope.narrow`), which binds
`$region_prefix` and `$school_code`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from .errors import BadParameter

__all__ = [
    "PARAMETERS",
    "SCOPE_PLACEHOLDERS",
    "STAGES",
    "LEVELS",
    "Parameter",
    "validate",
]

STAGES = ("primary", "junior", "senior")
LEVELS = ("province", "prefecture", "county", "school")
# Placeholders the engine binds from the scope in every metric.
SCOPE_PLACEHOLDERS = ("region_prefix", "school_code")

_SCHOOL_YEAR = re.compile(r"([12][0-9]{3})-([12][0-9]{3})")
_GRADE = re.compile(r"1[1-6]|2[1-4]|3[1-3]")
_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_MONTH = re.compile(r"([12][0-9]{3})-(0[1-9]|1[0-2])")


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise BadParameter(f"{name} must be a string, not {type(value).__name__}")
    return value


def _school_year(value: object) -> str:
    text = _text("school_year", value)
    m = _SCHOOL_YEAR.fullmatch(text)
    if m is None or int(m.group(2)) != int(m.group(1)) + 1:
        raise BadParameter("school_year must look like 2026-2027 (two consecutive years)")
    return text


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = _text(name, value)
        if text not in choices:
            raise BadParameter(f"{name} must be one of {', '.join(choices)}")
        return text

    return check


def _pattern(name: str, pattern: re.Pattern[str], rule: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = _text(name, value)
        if pattern.fullmatch(text) is None:
            raise BadParameter(f"{name} must be {rule}")
        return text

    return check


def _term(value: object) -> int:
    if isinstance(value, bool):
        raise BadParameter("term must be 1 (autumn) or 2 (spring)")
    if isinstance(value, str) and value in ("1", "2"):
        return int(value)
    if isinstance(value, int) and value in (1, 2):
        return value
    raise BadParameter("term must be 1 (autumn) or 2 (spring)")


def _month(value: object) -> date:
    text = _text("month", value)
    m = _MONTH.fullmatch(text)
    if m is None:
        raise BadParameter("month must look like 2026-11")
    return date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Parameter:
    name: str
    help_en: str
    check: Callable[[object], object]
    # False: the parameter narrows the scope instead of being bound (region, school).
    bound: bool = True


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "school_year",
            "school year code such as 2026-2027; default: the metric's default year "
            "(usually the current one)",
            _school_year,
        ),
        Parameter("stage", "primary / junior / senior; default: all", _choice("stage", STAGES)),
        Parameter(
            "grade",
            "grade code 11-16, 21-24, 31-33; default: all",
            _pattern("grade", _GRADE, "a grade code 11-16, 21-24 or 31-33"),
        ),
        Parameter(
            "level",
            "grouping level province / prefecture / county / school; default: one level "
            "below the (narrowed) scope",
            _choice("level", LEVELS),
        ),
        Parameter(
            "region",
            "2/4/6-digit region prefix inside the caller's scope (narrows it)",
            lambda v: _text("region", v),
            bound=False,
        ),
        Parameter(
            "school",
            "10-digit 学校标识码 inside the caller's scope (narrows it)",
            lambda v: _text("school", v),
            bound=False,
        ),
        Parameter(
            "subject",
            "subject code; default: all",
            _pattern("subject", _CODE, "a subject code of letters, digits or _"),
        ),
        Parameter(
            "exam_kind",
            "exam kind code; default: all",
            _pattern("exam_kind", _CODE, "an exam kind code of letters, digits or _"),
        ),
        Parameter("term", "1 autumn / 2 spring; default: both", _term),
        Parameter("month", "calendar month such as 2026-11; default: all", _month),
        Parameter(
            "change_type",
            "two-digit 学籍异动类别 code; default: all",
            _pattern("change_type", _TWO_DIGITS, "a two-digit status change type code"),
        ),
        Parameter(
            "basis",
            "enrollment (next-year enrollments in the registry, default) or destination "
            "(毕业去向 recorded at graduation)",
            _choice("basis", ("enrollment", "destination")),
        ),
    )
}


def validate(
    metric: str, declared: tuple[str, ...], params: Mapping[str, object] | None
) -> dict[str, object]:
    """Checked values of the parameters given (None and "" mean "default" and are
    dropped). Raises BadParameter for a parameter the metric does not declare or a
    malformed value."""
    values: dict[str, object] = {}
    if params is None:
        return values
    if not isinstance(params, Mapping):
        raise BadParameter("params must be a mapping of parameter names to values")
    for key, value in params.items():
        if not isinstance(key, str) or key not in declared:
            raise BadParameter(
                f"metric {metric} takes no parameter {key!r} "
                f"(it takes: {', '.join(declared) or 'none'})"
            )
        if value is None or value == "":
            continue
        values[key] = PARAMETERS[key].check(value)
    return values
