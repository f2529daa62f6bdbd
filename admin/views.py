"""Screens available at the foundation stage: read-mostly lists over the registry so the demo
shows its data. Role scoping, edit forms and related views grow in the admin-panel issue."""

from __future__ import annotations

from flask_appbuilder import AppBuilder, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from .models import (
    CodeItem,
    Enrollment,
    Guardian,
    Region,
    School,
    SchoolClass,
    SchoolYear,
    Student,
)

READ_ONLY = {"can_list", "can_show"}


class RegionView(ModelView):
    datamodel = SQLAInterface(Region)
    base_permissions = list(READ_ONLY)
    list_title = _l("Regions")
    list_columns = ["code", "name", "level", "parent"]
    search_columns = ["code", "name", "level"]
    label_columns = {
        "code": _l("Region code"),
        "name": _l("Name"),
        "level": _l("Level"),
        "parent": _l("Parent region"),
    }
    base_order = ("code", "asc")


class SchoolView(ModelView):
    datamodel = SQLAInterface(School)
    base_permissions = list(READ_ONLY)
    list_title = _l("Schools")
    list_columns = ["code", "name", "kind", "primary_years", "region", "urban_rural"]
    search_columns = ["code", "name", "kind", "region"]
    label_columns = {
        "code": _l("School code"),
        "name": _l("Name"),
        "kind": _l("Kind"),
        "primary_years": _l("Primary years"),
        "region": _l("Region"),
        "urban_rural": _l("Urban/rural"),
    }
    base_order = ("code", "asc")


class SchoolYearView(ModelView):
    datamodel = SQLAInterface(SchoolYear)
    base_permissions = list(READ_ONLY)
    list_title = _l("School years")
    list_columns = ["code", "start_date", "end_date"]
    label_columns = {
        "code": _l("School year"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
    }


class SchoolClassView(ModelView):
    datamodel = SQLAInterface(SchoolClass)
    base_permissions = list(READ_ONLY)
    list_title = _l("Classes")
    list_columns = ["school", "school_year", "grade_code", "name"]
    search_columns = ["school", "school_year", "grade_code"]
    label_columns = {
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "name": _l("Class"),
    }


class GuardianView(ModelView):
    datamodel = SQLAInterface(Guardian)
    base_permissions = list(READ_ONLY)
    list_title = _l("Guardians")
    list_columns = ["student", "seq", "name", "relationship_code", "phone", "is_guardian"]
    label_columns = {
        "student": _l("Student number"),
        "seq": _l("No."),
        "name": _l("Name"),
        "relationship_code": _l("Relationship"),
        "phone": _l("Phone"),
        "is_guardian": _l("Guardian"),
    }


class EnrollmentView(ModelView):
    datamodel = SQLAInterface(Enrollment)
    base_permissions = list(READ_ONLY)
    list_title = _l("Enrollments")
    list_columns = ["student", "school", "school_year", "grade_code", "school_class", "is_active"]
    search_columns = ["school", "school_year", "grade_code"]
    label_columns = {
        "student": _l("Student number"),
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "school_class": _l("Class"),
        "is_active": _l("Active"),
    }


class StudentView(ModelView):
    datamodel = SQLAInterface(Student)
    base_permissions = list(READ_ONLY)
    list_title = _l("Students")
    show_title = _l("Student")
    list_columns = [
        "student_number",
        "name",
        "sex",
        "birth_date",
        "current_school",
        "current_status",
    ]
    search_columns = ["student_number", "name", "id_number", "current_school", "current_status"]
    related_views = [GuardianView, EnrollmentView]
    show_exclude_columns = ["version"]
    label_columns = {
        "student_number": _l("Student number"),
        "name": _l("Name"),
        "sex": _l("Sex"),
        "birth_date": _l("Birth date"),
        "current_school": _l("School"),
        "current_status": _l("Status"),
        "id_number": _l("ID number"),
    }
    base_order = ("id", "asc")


class CodeItemView(ModelView):
    datamodel = SQLAInterface(CodeItem)
    base_permissions = list(READ_ONLY)
    list_title = _l("Code tables")
    list_columns = ["code_set", "code", "name_zh", "name_en", "valid_from", "valid_to"]
    search_columns = ["code_set", "code", "name_zh"]


def register_views(appbuilder: AppBuilder) -> None:
    registry = _l("Student registry")
    schools = _l("Schools")
    system = _l("System")
    appbuilder.add_view(
        StudentView,
        "Students",
        label=_l("Students"),
        category="Registry",
        category_label=registry,
        icon="fa-users",
    )
    appbuilder.add_view(GuardianView, "Guardians", label=_l("Guardians"), category="Registry")
    appbuilder.add_view(EnrollmentView, "Enrollments", label=_l("Enrollments"), category="Registry")
    appbuilder.add_view(
        SchoolView,
        "Schools",
        label=_l("Schools"),
        category="Schools",
        category_label=schools,
        icon="fa-university",
    )
    appbuilder.add_view(SchoolClassView, "Classes", label=_l("Classes"), category="Schools")
    appbuilder.add_view(SchoolYearView, "SchoolYears", label=_l("School years"), category="Schools")
    appbuilder.add_view(
        RegionView,
        "Regions",
        label=_l("Regions"),
        category="System",
        category_label=system,
        icon="fa-cog",
    )
    appbuilder.add_view(CodeItemView, "CodeTables", label=_l("Code tables"), category="System")
