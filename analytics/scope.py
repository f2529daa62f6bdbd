"""The caller's scope: a GB/T 2260 region prefix and, for school-level users, a school.

Every metric SQL filters on the two named parameters `$region_prefix` and `$school_code`,
which the engine always binds from the (narrowed) scope:

    county_code LIKE $region_prefix || '%'
    AND ($school_code IS NULL OR s.school_code = $school_code)

A filter the user picks in a page (a region or a school from a dropdown) goes through
`AnalyticsScope.narrow`, which only ever narrows: anything outside the scope raises
`ScopeViolation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadParameter, ScopeViolation

__all__ = ["AnalyticsScope", "ScopeViolation", "is_region_prefix", "is_school_code"]

_REGION = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")
_SCHOOL = re.compile(r"[0-9]{10}")


def is_region_prefix(value: object) -> bool:
    """A 2-, 4- or 6-digit GB/T 2260 prefix."""
    return isinstance(value, str) and _REGION.fullmatch(value) is not None


def is_school_code(value: object) -> bool:
    """A 10-digit 学校标识码."""
    return isinstance(value, str) and _SCHOOL.fullmatch(value) is not None


@dataclass(frozen=True)
class AnalyticsScope:
    """What a user may see: `region_prefix` "" = national, else a 2/4/6-digit GB/T 2260
    prefix; `school_code` a 10-digit 学校标识码 for school-level users (None otherwise)."""

    region_prefix: str = ""
    school_code: str | None = None

    def __post_init__(self) -> None:
        if self.region_prefix != "" and not is_region_prefix(self.region_prefix):
            raise BadParameter(
                "region_prefix must be empty or a 2-, 4- or 6-digit GB/T 2260 code prefix"
            )
        if self.school_code is not None and not is_school_code(self.school_code):
            raise BadParameter("school_code must be a 10-digit 学校标识码")

    @property
    def level(self) -> str:
        """national / province / prefecture / county / school."""
        if self.school_code is not None:
            return "school"
        return {0: "national", 2: "province", 4: "prefecture", 6: "county"}[len(self.region_prefix)]

    def narrow(
        self,
        region: str | None = None,
        school: str | None = None,
        *,
        school_county: str | None = None,
    ) -> AnalyticsScope:
        """The scope restricted to `region` (a 2/4/6-digit prefix) and/or `school` (a
        学校标识码). Raises ScopeViolation when the region is not inside the scope's region,
        when a school-level scope is asked for another school, or when `school_county` (the
        county of `school`, if the caller looked it up) is outside the scope's region;
        BadParameter when a value is malformed. Without `school_county` a school of
        another region simply matches nothing, because the region filter stays."""
        prefix = self.region_prefix
        school_code = self.school_code
        if region is not None and region != "":
            if not is_region_prefix(region):
                raise BadParameter("region must be a 2-, 4- or 6-digit GB/T 2260 code prefix")
            if not region.startswith(self.region_prefix):
                raise ScopeViolation(f"region {region} is outside the scope {self.describe()}")
            prefix = region
        if school is not None and school != "":
            if not is_school_code(school):
                raise BadParameter("school must be a 10-digit 学校标识码")
            if self.school_code is not None and school != self.school_code:
                raise ScopeViolation(f"school {school} is outside the scope {self.describe()}")
            if school_county is not None and not school_county.startswith(self.region_prefix):
                raise ScopeViolation(f"school {school} is outside the scope {self.describe()}")
            school_code = school
        return AnalyticsScope(prefix, school_code)

    def describe(self) -> str:
        parts = [f"region {self.region_prefix}" if self.region_prefix else "national"]
        if self.school_code:
            parts.append(f"school {self.school_code}")
        return ", ".join(parts)
