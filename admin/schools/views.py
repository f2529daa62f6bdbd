"""学校管理 screens: schools, classes, school years."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from ..base_views import ScopedModelView
from ..lookups import RegistryInterface
from ..models import School, SchoolClass, SchoolYear
from ..registry.views import code_formatters


class SchoolView(ScopedModelView):
    datamodel = RegistryInterface(School)
    class_permission_name = "School"
    school_bound = True
    list_title = _l("Schools")
    show_title = _l("School")
    list_columns = ["code", "name", "kind", "primary_years", "region", "urban_rural", "is_active"]
    show_columns = [*list_columns, "address", "info_change_review"]
    add_columns = ["code", "name", "kind", "primary_years", "region", "urban_rural", "address"]
    edit_columns = [
        "name",
        "kind",
        "primary_years",
        "urban_rural",
        "address",
        "is_active",
        "info_change_review",
    ]
    search_columns = ["code", "name", "kind", "region"]
    label_columns = {
        "code": _l("School code"),
        "name": _l("Name"),
        "kind": _l("Kind"),
        "primary_years": _l("Primary years"),
        "region": _l("Region"),
        "urban_rural": _l("Urban/rural"),
        "address": _l("Address"),
        "is_active": _l("Active"),
        "info_change_review": _l("Record edits need the school leader's review"),
    }
    base_order = ("code", "asc")
    # FAB makes NOT NULL columns required, which for a checkbox means "must be ticked":
    # plain checkboxes, so a school can be deactivated and review turned off.
    edit_form_extra_fields = {
        "is_active": BooleanField(_l("Active")),
        "info_change_review": BooleanField(_l("Record edits need the school leader's review")),
    }

    def school_of(self, item: Any) -> int | None:
        return item.id

    def _check_school(self, item: Any) -> None:
        # A new school has no id yet: check its region against the user's scope instead.
        from ..base_views import OutOfScope, current_scope

        scope = current_scope()
        if not scope.personal and scope.role != "Admin":
            raise OutOfScope(_l("You may not place a record in that school."))
        if scope.kind == "region" and not (
            item.region_code or (item.region.code if item.region else "")
        ).startswith(scope.region_prefix or ""):
            raise OutOfScope(str(_l("You may not place a record in that school.")))
        if scope.kind in ("school", "classes", "children"):
            raise OutOfScope(str(_l("You may not place a record in that school.")))


class SchoolClassView(ScopedModelView):
    datamodel = RegistryInterface(SchoolClass)
    class_permission_name = "SchoolClass"
    school_bound = True
    list_title = _l("Classes")
    show_title = _l("Class")
    list_columns = ["school", "school_year", "grade_code", "number", "name"]
    add_columns = ["school", "school_year", "grade_code", "number", "name"]
    edit_columns = ["name"]
    search_columns = ["school", "school_year", "grade_code", "name"]
    label_columns = {
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "number": _l("Class number"),
        "name": _l("Class"),
    }
    formatters_columns = code_formatters(["grade_code"])
    base_order = ("id", "desc")

    def school_of(self, item: Any) -> int | None:
        return item.school.id if item.school is not None else None


class SchoolYearView(ScopedModelView):
    datamodel = RegistryInterface(SchoolYear)
    class_permission_name = "SchoolYear"
    list_title = _l("School years")
    list_columns = ["code", "start_date", "end_date"]
    add_columns = edit_columns = ["code", "start_date", "end_date"]
    label_columns = {
        "code": _l("School year"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
    }
    base_order = ("code", "desc")
