"""REST API for students, guardians and enrollments (/api/v1/student/ …)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, request

from ..audit.context import set_audit_reason
from ..base_views import ScopedModelRestApi, ScopeFilter, current_scope
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import Enrollment, Guardian, Student
from ..services import corrections
from ..services import students as student_service

STUDENT_FIELDS = list(student_service.STUDENT_FORM_FIELDS)


def _violations(func: Any, *args: Any) -> list[Violation]:
    try:
        func(*args)
    except RuleError as exc:
        return list(exc.violations)
    return []


class StudentApi(ScopedModelRestApi):
    resource_name = "student"
    class_permission_name = "Student"
    datamodel = RegistryInterface(Student)
    versioned = True
    school_bound = True
    list_columns = [
        "id",
        "student_number",
        "student_number_kind",
        "name",
        "sex",
        "birth_date",
        "current_status",
        "current_grade_code",
        "current_school.id",
        "current_school.name",
        "current_class.id",
        "current_class.name",
        "version",
    ]
    show_columns = [
        "id",
        "student_number",
        "student_number_kind",
        *STUDENT_FIELDS,
        "current_status",
        "current_grade_code",
        "current_school.id",
        "current_school.name",
        "current_class.id",
        "updated_at",
        "updated_by",
        "version",
    ]
    add_columns = [*STUDENT_FIELDS, "current_school"]
    # Key fields change through a correction request (DOMAIN §1.4), not a PUT.
    edit_columns = [
        f
        for f in STUDENT_FIELDS
        if f not in ("name", "sex", "birth_date", "id_doc_type", "id_number")
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
    order_columns = ["id", "student_number", "name", "birth_date"]
    add_query_rel_fields = {"current_school": [["id", ScopeFilter, None]]}
    edit_query_rel_fields = add_query_rel_fields

    def school_of(self, item: Any) -> int | None:
        return item.current_school.id if item.current_school is not None else None

    def validate_item(self, item: Any, is_new: bool) -> list[Violation]:
        if is_new:
            # 查重 confirmation for a same name/sex/birth-date match: a header, so the
            # record's schema stays the national form.
            reason = (request.headers.get("X-Duplicate-Reason") or "").strip() or None
            if reason:
                set_audit_reason(db.session, "查重确认 / duplicate check confirmed: " + reason)
            return _violations(student_service.prepare_new_student, db.session, item, None, reason)
        # No autoflush: the checks' queries must not write the edit before it may be diverted.
        with db.session.no_autoflush:
            problems = _violations(student_service.check_student_update, db.session, item)
            if not problems:
                try:
                    g.xueji_review = corrections.divert_edit_for_review(
                        db.session, current_scope(), item, username=g.user.username
                    )
                except RuleError as exc:
                    return exc.violations
        return problems

    def _save(self, item: Any, status: int) -> Any:
        review = g.pop("xueji_review", None)
        if review is None:
            return super()._save(item, status)
        # 信息变更登记: the edit waits for the school leader; the record is unchanged.
        db.session.commit()
        return self.response(
            202,
            message="the school reviews record edits: the change awaits the school leader",
            info_change_id=review.id,
        )


class GuardianApi(ScopedModelRestApi):
    resource_name = "guardian"
    class_permission_name = "Guardian"
    datamodel = RegistryInterface(Guardian)
    list_columns = ["id", "student.id", "seq", "name", "relationship_code", "phone", "is_guardian"]
    show_columns = [
        "id",
        "student.id",
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
    add_columns = ["student", *show_columns[2:]]
    edit_columns = show_columns[3:]
    add_query_rel_fields = {"student": [["id", ScopeFilter, None]]}
    edit_query_rel_fields = add_query_rel_fields

    def validate_item(self, item: Any, is_new: bool) -> list[Violation]:
        if item.student is None:
            return [Violation("required", "student_number", {})]
        if not self._student_visible(item.student):
            return [Violation("scope.school", "school", {})]
        return _violations(student_service.check_guardian, db.session, item, current_scope())

    @staticmethod
    def _student_visible(student: Student) -> bool:
        from ..security.scope import row_in_scope

        return row_in_scope(db.session, current_scope(), Student, student.id)


class EnrollmentApi(ScopedModelRestApi):
    resource_name = "enrollment"
    class_permission_name = "Enrollment"
    datamodel = RegistryInterface(Enrollment)
    versioned = True
    school_bound = True
    list_columns = [
        "id",
        "student.id",
        "school.id",
        "school_year.code",
        "grade_code",
        "school_class.id",
        "school_class.name",
        "is_active",
        "version",
    ]
    show_columns = [
        *list_columns,
        "seat_number",
        "stage_entry_ym",
        "entry_date",
        "admission_method",
        "study_mode",
        "student_source",
        "ended_on",
    ]
    add_columns = [
        "student",
        "school_class",
        "seat_number",
        "stage_entry_ym",
        "entry_date",
        "admission_method",
        "study_mode",
        "student_source",
    ]
    edit_columns = ["school_class", "seat_number", "study_mode", "student_source"]
    add_query_rel_fields = {
        "student": [["id", ScopeFilter, None]],
        "school_class": [["id", ScopeFilter, None]],
    }
    edit_query_rel_fields = {"school_class": [["id", ScopeFilter, None]]}

    def school_of(self, item: Any) -> int | None:
        return item.school_class.school_id if item.school_class is not None else None

    def validate_item(self, item: Any, is_new: bool) -> list[Violation]:
        if is_new and item.entry_date is None:
            item.entry_date = date.today()
        return _violations(student_service.check_enrollment, db.session, item)
