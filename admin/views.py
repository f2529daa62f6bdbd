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
    show_title = _l("Region")
    list_columns = ["code", "name", "level", "parent"]
    search_columns = ["code", "name", "level"]
    label_columns = {
        "code": _l("Region code"),
        "name": _l("Name"),
        "level": _l("Level"),
        "parent": _l("Parent region"),
        "province_code": _l("Province code"),
        "valid_from": _l("Valid from"),
        "valid_to": _l("Valid to"),
        "children": _l("Subordinate regions"),
    }
    base_order = ("code", "asc")


class SchoolView(ModelView):
    datamodel = SQLAInterface(School)
    base_permissions = list(READ_ONLY)
    list_title = _l("Schools")
    show_title = _l("School")
    list_columns = ["code", "name", "kind", "primary_years", "region", "urban_rural"]
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
    }
    base_order = ("code", "asc")


class SchoolYearView(ModelView):
    datamodel = SQLAInterface(SchoolYear)
    base_permissions = list(READ_ONLY)
    list_title = _l("School years")
    show_title = _l("School year")
    list_columns = ["code", "start_date", "end_date"]
    label_columns = {
        "code": _l("School year"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
        "terms": _l("Terms"),
    }


class SchoolClassView(ModelView):
    datamodel = SQLAInterface(SchoolClass)
    base_permissions = list(READ_ONLY)
    list_title = _l("Classes")
    show_title = _l("Class")
    list_columns = ["school", "school_year", "grade_code", "name"]
    search_columns = ["school", "school_year", "grade_code"]
    label_columns = {
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "name": _l("Class"),
        "number": _l("Class number"),
    }


class GuardianView(ModelView):
    datamodel = SQLAInterface(Guardian)
    base_permissions = list(READ_ONLY)
    list_title = _l("Guardians")
    show_title = _l("Guardian")
    list_columns = ["student", "seq", "name", "relationship_code", "phone", "is_guardian"]
    label_columns = {
        "student": _l("Student number"),
        "seq": _l("No."),
        "name": _l("Full name"),
        "relationship_code": _l("Relationship"),
        "relationship_note": _l("Relationship note"),
        "ethnicity": _l("Ethnic group"),
        "employer": _l("Employer"),
        "address": _l("Current address"),
        "hukou_region_code": _l("Household registration place"),
        "phone": _l("Phone"),
        "is_guardian": _l("Is guardian"),
        "id_doc_type": _l("ID document type"),
        "id_number": _l("ID number"),
        "position": _l("Position"),
    }


class EnrollmentView(ModelView):
    datamodel = SQLAInterface(Enrollment)
    base_permissions = list(READ_ONLY)
    list_title = _l("Enrollments")
    show_title = _l("Enrollment")
    list_columns = ["student", "school", "school_year", "grade_code", "school_class", "is_active"]
    search_columns = ["school", "school_year", "grade_code"]
    label_columns = {
        "student": _l("Student number"),
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "school_class": _l("Class"),
        "is_active": _l("Active"),
        "seat_number": _l("Number in class"),
        "stage_entry_ym": _l("Year and month of entry"),
        "entry_date": _l("Enrolled on"),
        "admission_method": _l("Admission method"),
        "study_mode": _l("Day or boarding"),
        "student_source": _l("Student source"),
        "ended_on": _l("Ended on"),
        "end_reason": _l("End reason"),
        "version": _l("Record version"),
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
        "student_number_kind": _l("Student number type"),
        "name": _l("Full name"),
        "sex": _l("Sex"),
        "birth_date": _l("Birth date"),
        "birthplace_code": _l("Place of birth"),
        "native_place_code": _l("Native place"),
        "ethnicity": _l("Ethnic group"),
        "nationality": _l("Nationality/region"),
        "id_doc_type": _l("ID document type"),
        "id_number": _l("ID number"),
        "overseas_chinese": _l("HK/Macao/Taiwan/overseas status"),
        "political_status": _l("Political affiliation"),
        "health": _l("Health status"),
        "photo_ref": _l("Photo"),
        "name_pinyin": _l("Name in pinyin"),
        "former_name": _l("Former name"),
        "id_valid_period": _l("ID document validity"),
        "hukou_region_code": _l("Household registration place"),
        "hukou_type": _l("Household registration type"),
        "specialty": _l("Special skills"),
        "aux_number": _l("Auxiliary student number"),
        "current_address": _l("Current address"),
        "mailing_address": _l("Mailing address"),
        "home_address": _l("Home address"),
        "phone": _l("Phone"),
        "postal_code": _l("Postal code"),
        "email": _l("Email"),
        "homepage": _l("Homepage"),
        "only_child": _l("Only child"),
        "preschool": _l("Received preschool education"),
        "left_behind": _l("Left-behind child"),
        "migrant_child": _l("Child of migrant workers"),
        "orphan": _l("Orphan"),
        "martyr_child": _l("Child of a martyr or entitled family"),
        "inclusive_education": _l("Inclusive education"),
        "disability": _l("Disability type"),
        "gov_purchased_place": _l("Government-purchased place"),
        "needs_aid": _l("Needs financial aid"),
        "boarding_subsidy": _l("Boarding subsidy"),
        "distance_km": _l("Distance to school (km)"),
        "transport": _l("Means of transport to school"),
        "needs_school_bus": _l("Needs the school bus"),
        "current_school": _l("School"),
        "current_status": _l("Status"),
        "contact_confirmed_at": _l("Contact details confirmed at"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
        "guardians": _l("Guardians"),
        "enrollments": _l("Enrollments"),
    }
    base_order = ("id", "asc")


class CodeItemView(ModelView):
    datamodel = SQLAInterface(CodeItem)
    base_permissions = list(READ_ONLY)
    list_title = _l("Code tables")
    show_title = _l("Code item")
    list_columns = ["code_set", "code", "name_zh", "name_en", "valid_from", "valid_to"]
    search_columns = ["code_set", "code", "name_zh"]
    label_columns = {
        "code_set": _l("Code set"),
        "code": _l("Code"),
        "name_zh": _l("Chinese name"),
        "name_en": _l("English name"),
        "parent_code": _l("Parent code"),
        "std_code": _l("Standard code"),
        "valid_from": _l("Valid from"),
        "valid_to": _l("Valid to"),
        "sort_order": _l("Sort order"),
    }


def register_views(appbuilder: AppBuilder) -> None:
    registry = _l("Student registry")
    schools = _l("School management")
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
