"""REST API for schools, classes and school years."""

from __future__ import annotations

from typing import Any

from ..base_views import ScopedModelRestApi, ScopeFilter
from ..lookups import RegistryInterface
from ..models import School, SchoolClass, SchoolYear


class SchoolApi(ScopedModelRestApi):
    resource_name = "school"
    class_permission_name = "School"
    datamodel = RegistryInterface(School)
    list_columns = ["id", "code", "name", "kind", "primary_years", "region.code", "urban_rural"]
    show_columns = [*list_columns, "address", "is_active"]
    add_columns = ["code", "name", "kind", "primary_years", "region", "urban_rural", "address"]
    edit_columns = ["name", "kind", "primary_years", "urban_rural", "address", "is_active"]
    search_columns = ["code", "name", "kind", "region"]


class SchoolClassApi(ScopedModelRestApi):
    resource_name = "school_class"
    class_permission_name = "SchoolClass"
    datamodel = RegistryInterface(SchoolClass)
    school_bound = True
    list_columns = ["id", "school.id", "school_year.code", "grade_code", "number", "name"]
    show_columns = list_columns
    add_columns = ["school", "school_year", "grade_code", "number", "name"]
    edit_columns = ["name"]
    search_columns = ["school", "school_year", "grade_code"]
    add_query_rel_fields = {"school": [["id", ScopeFilter, None]]}

    def school_of(self, item: Any) -> int | None:
        return item.school.id if item.school is not None else None


class SchoolYearApi(ScopedModelRestApi):
    resource_name = "school_year"
    class_permission_name = "SchoolYear"
    datamodel = RegistryInterface(SchoolYear)
    list_columns = ["id", "code", "start_date", "end_date"]
    show_columns = list_columns
    add_columns = edit_columns = ["code", "start_date", "end_date"]
