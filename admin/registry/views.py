"""学籍管理 screens: students (the national form), family members/guardians, enrollments."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from ..base_views import ScopedModelView, current_locale, current_scope
from ..domain.messages import RuleError
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import Diploma, Enrollment, Guardian, InfoChangeRequest, Student
from ..services import corrections
from ..services import students as student_service
from ..services.codes import code_choices, code_name

STUDENT_LABELS = {
    "student_number": _l("Student number"),
    "student_number_kind": _l("Number kind"),
    "name": _l("Full name"),
    "sex": _l("Sex"),
    "birth_date": _l("Birth date"),
    "birthplace_code": _l("Birthplace"),
    "native_place_code": _l("Native place"),
    "ethnicity": _l("Ethnicity"),
    "nationality": _l("Nationality/region"),
    "id_doc_type": _l("ID document type"),
    "id_number": _l("ID number"),
    "overseas_chinese": _l("HK/Macao/Taiwan/overseas status"),
    "political_status": _l("Political status"),
    "health": _l("Health"),
    "name_pinyin": _l("Name in pinyin"),
    "former_name": _l("Former name"),
    "id_valid_period": _l("ID validity period"),
    "hukou_region_code": _l("Hukou location"),
    "hukou_type": _l("Hukou type"),
    "specialty": _l("Specialty"),
    "aux_number": _l("Auxiliary number"),
    "current_address": _l("Current address"),
    "mailing_address": _l("Mailing address"),
    "home_address": _l("Home address"),
    "phone": _l("Phone"),
    "postal_code": _l("Postal code"),
    "email": _l("Email"),
    "homepage": _l("Homepage"),
    "only_child": _l("Only child"),
    "preschool": _l("Attended preschool"),
    "left_behind": _l("Left-behind child"),
    "migrant_child": _l("Migrant worker's child"),
    "orphan": _l("Orphan"),
    "martyr_child": _l("Martyr's or entitled family's child"),
    "inclusive_education": _l("Inclusive education"),
    "disability": _l("Disability"),
    "gov_purchased_place": _l("Government-purchased place"),
    "needs_aid": _l("Needs financial aid"),
    "boarding_subsidy": _l("Boarding subsidy"),
    "distance_km": _l("Distance to school (km)"),
    "transport": _l("Transport to school"),
    "needs_school_bus": _l("Needs school bus"),
    "current_status": _l("Status"),
    "current_school": _l("School"),
    "current_class": _l("Class"),
    "current_grade_code": _l("Grade"),
    "updated_at": _l("Last changed"),
    "updated_by": _l("Changed by"),
    "duplicate_reason": _l("Why this is not the same person"),
}

# Which code set renders each coded column.
CODE_COLUMNS = {
    "sex": "sex",
    "ethnicity": "ethnicity",
    "nationality": "nationality",
    "id_doc_type": "id_doc_type",
    "overseas_chinese": "overseas_chinese",
    "political_status": "political_status",
    "health": "health",
    "hukou_type": "hukou_type",
    "left_behind": "left_behind",
    "inclusive_education": "inclusive_education",
    "disability": "disability",
    "transport": "transport",
    "current_status": "student_status",
    "current_grade_code": "grade",
    "grade_code": "grade",
    "relationship_code": "family_relationship",
    "admission_method": "admission_method",
    "study_mode": "study_mode",
    "student_source": "student_source",
}


def code_formatters(columns: list[str]) -> dict[str, Any]:
    def make(code_set: str) -> Any:
        return lambda value: code_name(code_set, value, current_locale())

    return {c: make(CODE_COLUMNS[c]) for c in columns if c in CODE_COLUMNS}


def code_select(code_set: str, label: Any, required: bool = False) -> SelectField:
    """A select of a code table's codes in force, labelled in the user's language."""

    class CodeSelect(SelectField):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.choices = [("", "—")] + code_choices(code_set, current_locale())

        def pre_validate(self, form: Any) -> None:
            self.choices = [("", "—")] + code_choices(code_set, current_locale())
            super().pre_validate(form)

    return CodeSelect(label, validators=[] if required else [Optional()])


# Key fields (name, ID document, birth date, sex) change only through a correction request
# approved by the county (DOMAIN §1.4); the edit form leaves them out.
KEY_FIELDS = ("name", "sex", "birth_date", "id_doc_type", "id_number")
FORM_GROUPS = [
    (
        _l("Basic information"),
        [
            "name",
            "sex",
            "birth_date",
            "birthplace_code",
            "native_place_code",
            "ethnicity",
            "nationality",
            "id_doc_type",
            "id_number",
            "overseas_chinese",
            "political_status",
            "health",
        ],
    ),
    (
        _l("Supplementary information"),
        [
            "name_pinyin",
            "former_name",
            "id_valid_period",
            "hukou_region_code",
            "hukou_type",
            "specialty",
            "aux_number",
        ],
    ),
    (
        _l("Contact information"),
        [
            "current_address",
            "mailing_address",
            "home_address",
            "phone",
            "postal_code",
            "email",
            "homepage",
        ],
    ),
    (
        _l("Extended information"),
        [
            "only_child",
            "preschool",
            "left_behind",
            "migrant_child",
            "orphan",
            "martyr_child",
            "inclusive_education",
            "disability",
            "gov_purchased_place",
            "needs_aid",
            "boarding_subsidy",
            "distance_km",
            "transport",
            "needs_school_bus",
        ],
    ),
]
REGISTRY_GROUP = (
    _l("Registry status"),
    [
        "student_number",
        "student_number_kind",
        "current_status",
        "current_school",
        "current_grade_code",
        "current_class",
        "updated_at",
        "updated_by",
    ],
)
FORM_CODE_FIELDS = {
    name: code_set
    for name, code_set in CODE_COLUMNS.items()
    if name
    in {
        "sex",
        "ethnicity",
        "nationality",
        "id_doc_type",
        "overseas_chinese",
        "political_status",
        "health",
        "hukou_type",
        "left_behind",
        "inclusive_education",
        "disability",
        "transport",
    }
}


BOOLEAN_FIELDS = (
    "only_child",
    "preschool",
    "migrant_child",
    "orphan",
    "martyr_child",
    "gov_purchased_place",
    "needs_aid",
    "boarding_subsidy",
    "needs_school_bus",
)


def _form_overrides(fields: list[str]) -> dict[str, Any]:
    required = set(student_service.REQUIRED_FIELDS)
    overrides: dict[str, Any] = {
        name: code_select(code_set, STUDENT_LABELS[name], name in required)
        for name, code_set in FORM_CODE_FIELDS.items()
        if name in fields
    }
    # FAB makes NOT NULL columns required, which for a checkbox means "must be ticked";
    # 是/否 items are plain checkboxes.
    for name in BOOLEAN_FIELDS:
        if name in fields:
            overrides[name] = BooleanField(STUDENT_LABELS[name])
    return overrides


class GuardianView(ScopedModelView):
    datamodel = RegistryInterface(Guardian)
    class_permission_name = "Guardian"
    list_title = _l("Family members and guardians")
    show_title = _l("Family member or guardian")
    add_title = _l("Add family member or guardian")
    edit_title = _l("Edit family member or guardian")
    list_columns = ["student", "seq", "name", "relationship_code", "phone", "is_guardian"]
    show_columns = [
        "student",
        "seq",
        "name",
        "relationship_code",
        "relationship_note",
        "ethnicity",
        "employer",
        "address",
        "hukou_region_code",
        "phone",
        "is_guardian",
        "id_doc_type",
        "id_number",
        "position",
    ]
    edit_columns = show_columns[2:]
    add_columns = ["student", "seq", *edit_columns]
    search_columns = ["name", "phone"]
    label_columns = {
        "student": _l("Student number"),
        "seq": _l("No."),
        "name": _l("Full name"),
        "relationship_code": _l("Relationship"),
        "relationship_note": _l("Relationship note"),
        "ethnicity": _l("Ethnicity"),
        "employer": _l("Employer"),
        "address": _l("Current address"),
        "hukou_region_code": _l("Hukou location"),
        "phone": _l("Phone"),
        "is_guardian": _l("Legal guardian"),
        "id_doc_type": _l("ID document type"),
        "id_number": _l("ID number"),
        "position": _l("Position"),
    }
    formatters_columns = code_formatters(show_columns)

    def pre_add(self, item: Any) -> None:
        super().pre_add(item)
        with db.session.no_autoflush:  # the new row is not in the session yet
            student_service.check_guardian(db.session, item, current_scope())

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        with db.session.no_autoflush:
            student_service.check_guardian(db.session, item, current_scope())


class EnrollmentView(ScopedModelView):
    datamodel = RegistryInterface(Enrollment)
    class_permission_name = "Enrollment"
    versioned = True
    school_bound = True
    list_title = _l("Enrollments")
    show_title = _l("Enrollment")
    list_columns = [
        "student",
        "school",
        "school_year",
        "grade_code",
        "school_class",
        "admission_method",
        "is_active",
    ]
    show_columns = [
        "student",
        "school",
        "school_year",
        "grade_code",
        "school_class",
        "seat_number",
        "stage_entry_ym",
        "entry_date",
        "admission_method",
        "study_mode",
        "student_source",
        "is_active",
        "ended_on",
        "updated_at",
        "updated_by",
    ]
    edit_columns = ["school_class", "seat_number", "study_mode", "student_source"]
    add_columns = [
        "student",
        "school",
        "school_year",
        "school_class",
        "seat_number",
        "stage_entry_ym",
        "entry_date",
        "admission_method",
        "study_mode",
        "student_source",
    ]
    search_columns = ["school", "school_year", "grade_code", "school_class", "is_active"]
    label_columns = {
        "student": _l("Student number"),
        "school": _l("School"),
        "school_year": _l("School year"),
        "grade_code": _l("Grade"),
        "school_class": _l("Class"),
        "seat_number": _l("Seat number"),
        "stage_entry_ym": _l("Entry year and month"),
        "entry_date": _l("Entry date"),
        "admission_method": _l("Admission method"),
        "study_mode": _l("Study mode"),
        "student_source": _l("Student source"),
        "is_active": _l("Active"),
        "ended_on": _l("Ended on"),
        "updated_at": _l("Last changed"),
        "updated_by": _l("Changed by"),
    }
    formatters_columns = code_formatters(show_columns)
    base_order = ("school_year_id", "desc")
    add_form_extra_fields = {
        "admission_method": code_select("admission_method", _l("Admission method"), True),
        "study_mode": code_select("study_mode", _l("Study mode"), True),
        "student_source": code_select("student_source", _l("Student source"), True),
    }
    edit_form_extra_fields = {
        "study_mode": code_select("study_mode", _l("Study mode"), True),
        "student_source": code_select("student_source", _l("Student source"), True),
    }

    def school_of(self, item: Any) -> int | None:
        school = item.school_class.school if item.school_class else item.school
        return school.id if school is not None else None

    def pre_add(self, item: Any) -> None:
        super().pre_add(item)
        student_service.check_enrollment(db.session, item)

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        student_service.check_enrollment(db.session, item)


class StudentView(ScopedModelView):
    datamodel = RegistryInterface(Student)
    class_permission_name = "Student"
    versioned = True
    school_bound = True
    list_title = _l("Students")
    show_title = _l("Student record")
    add_title = _l("Register a student")
    edit_title = _l("Edit student record")
    list_columns = [
        "student_number",
        "name",
        "sex",
        "birth_date",
        "current_school",
        "current_grade_code",
        "current_class",
        "current_status",
    ]
    search_columns = [
        "name",
        "student_number",
        "id_number",
        "current_school",
        "current_grade_code",
        "current_class",
        "current_status",
    ]
    show_fieldsets = [
        (title, {"fields": fields}) for title, fields in [*FORM_GROUPS, REGISTRY_GROUP]
    ]
    # Registration is the guided screen /register (admin/registry/registration.py): FAB's add
    # redirects there; its form is never shown.
    add_columns = ["name"]
    edit_fieldsets = [
        (title, {"fields": [f for f in fields if f not in KEY_FIELDS]})
        for title, fields in FORM_GROUPS
    ]
    label_columns = STUDENT_LABELS
    formatters_columns = code_formatters(list(STUDENT_LABELS))
    edit_form_extra_fields = _form_overrides(
        [f for _, fs in FORM_GROUPS for f in fs if f not in KEY_FIELDS]
    )
    related_views = [GuardianView, EnrollmentView]
    show_template = "xueji/student_show.html"
    edit_row_message = LazyString(lambda: str(g.get("xueji_edit_message") or _("Changed Row")))
    base_order = ("id", "desc")  # newest records (this year's intake) first

    def school_of(self, item: Any) -> int | None:
        return item.current_school.id if item.current_school is not None else None

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        return redirect(url_for("RegistrationView.index"))

    def pre_update(self, item: Any) -> None:
        super().pre_update(item)
        try:
            with db.session.no_autoflush:
                student_service.check_student_update(db.session, item)
                # 信息变更登记: where the school reviews edits, the edit waits for the leader.
                if corrections.divert_edit_for_review(
                    db.session, current_scope(), item, username=g.user.username
                ):
                    g.xueji_edit_message = _(
                        "The school reviews record edits: your changes were sent to the school "
                        "leader and apply once approved."
                    )
        except RuleError as exc:
            raise ValueError(
                "; ".join(v.message(current_locale()) for v in exc.violations)
            ) from None

    @action(
        "confirm_contact",
        _l("Confirm contact details"),
        _l("Mark the selected students' contact details as checked with the family today?"),
        "fa-check",
    )
    def confirm_contact(self, items: Any) -> Any:
        rows = items if isinstance(items, list) else [items]
        count = student_service.confirm_contact_details(
            db.session, rows, getattr(g.user, "username", "")
        )
        db.session.commit()
        flash(_("Contact details confirmed for %(count)d students.", count=count), "success")
        return redirect(self.get_redirect())

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        # The audit trail and status history of the student, for the show template.
        from ..services.history import student_history
        from ..status_changes.views import state_name, type_name

        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            history = student_history(db.session, item, current_scope())
            history["status_changes"] = [
                {
                    "id": r.id,
                    "created_at": r.created_at,
                    "type": type_name(r.change_type),
                    "state": state_name(r.state),
                    "effective_date": r.effective_date,
                    "remarks": r.remarks,
                }
                for r in history["status_changes"]
            ]
            history["info_changes"] = db.session.scalars(
                select(InfoChangeRequest)
                .where(InfoChangeRequest.student_id == item.id)
                .order_by(InfoChangeRequest.id.desc())
            ).all()
            history["diplomas"] = db.session.scalars(
                select(Diploma).where(Diploma.student_id == item.id).order_by(Diploma.id)
            ).all()
            g.xueji_history = history
        return super().show(pk)
