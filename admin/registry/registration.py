"""新生注册建籍: the guided registration form — the national 学生基本信息表 grouped as on paper
(基本信息, 辅助信息, 联系信息, 扩展信息, 学籍信息, 家庭成员一/二), photo and proofs — written
by the same `add_student` as the import: 查重, L number, ID-document history, family members
and the enrollment in one go, or nothing with every problem beside its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.context import set_audit_reason
from ..base_views import business_date, current_locale, current_scope, school_from_request
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..models import Guardian, SchoolClass, Student
from ..security.scope import school_in_scope
from ..services import students as student_service
from ..services.codes import code_choices
from ..services.status_changes import current_school_year
from ..uploads.service import commit_files, discard_new_blobs, store_student_file
from ..uploads.validation import limits_from_config, validate_upload
from .views import BOOLEAN_FIELDS, FORM_CODE_FIELDS, FORM_GROUPS, STUDENT_LABELS, GuardianView

GUARDIAN_FORM = (
    "name",
    "relationship_code",
    "id_doc_type",
    "id_number",
    "phone",
    "ethnicity",
    "employer",
    "position",
    "address",
    "hukou_region_code",
    "is_guardian",
)
GUARDIAN_CODES = {
    "relationship_code": "family_relationship",
    "id_doc_type": "id_doc_type",
    "ethnicity": "ethnicity",
}
ENROLLMENT_FORM = ("school_class", "entry_date", "admission_method", "study_mode", "student_source")
ENROLLMENT_CODES = {
    "admission_method": "admission_method",
    "study_mode": "study_mode",
    "student_source": "student_source",
}
ENROLLMENT_LABELS = {
    "school_class": _l("Class"),
    "entry_date": _l("Entry date"),
    "admission_method": _l("Admission method"),
    "study_mode": _l("Study mode"),
    "student_source": _l("Student source"),
}
# Every input of the form (problems of anything else are listed above the button).
RENDERED = frozenset(
    {
        *student_service.STUDENT_FORM_FIELDS,
        *ENROLLMENT_FORM,
        *(f"g{seq}_{name}" for seq in (1, 2) for name in GUARDIAN_FORM),
        "photo_upload",
        "proof_upload",
        "duplicate_reason",
        "school",
    }
)
# Violations of guardian rows name these fields (admin/services/students.py).
GUARDIAN_VIOLATION_FIELDS = {"relationship": "relationship_code"}


def _length_problems(model: Any, values: dict[str, Any], prefix: str = "") -> list[Violation]:
    problems = []
    for name, value in values.items():
        column = model.__table__.c.get(name)
        length = getattr(getattr(column, "type", None), "length", None)
        if isinstance(value, str) and length and len(value) > length:
            problems.append(
                Violation("import.too_long", prefix + name, {"max": length, "length": len(value)})
            )
    return problems


class RegistrationView(BaseView):
    route_base = "/register"
    class_permission_name = "Student"
    method_permission_name = {"index": "write"}
    default_view = "index"

    def _classes(self, school: Any) -> list[SchoolClass]:
        year = current_school_year(db.session, business_date())
        if school is None or year is None:
            return []
        return list(
            db.session.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == school.id, SchoolClass.school_year_id == year.id)
                .order_by(SchoolClass.grade_code, SchoolClass.number)
            )
        )

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self) -> Any:
        locale = current_locale()
        school = school_from_request()
        form = request.form if request.method == "POST" else request.args
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            try:
                student = self._register(school, form)
                flash(
                    _(
                        "Registered with the temporary student number %(number)s.",
                        number=student.student_number,
                    ),
                    "success",
                )
                return redirect(url_for("StudentView.show", pk=student.id))
            except FormRefused as exc:
                db.session.rollback()
                discard_new_blobs(db.session)
                for place, v in exc.problems:
                    errors.setdefault(place, []).append(v.message(locale))
        codes = {
            name: code_choices(code_set, locale)
            for name, code_set in {**FORM_CODE_FIELDS, **ENROLLMENT_CODES}.items()
        }
        guardian_codes = {n: code_choices(c, locale) for n, c in GUARDIAN_CODES.items()}
        return self.render_template(
            "xueji/register.html",
            title=_l("Register a student"),
            school=school,
            classes=self._classes(school),
            groups=FORM_GROUPS,
            labels=STUDENT_LABELS,
            guardian_labels=GuardianView.label_columns,
            guardian_fields=GUARDIAN_FORM,
            enrollment_fields=ENROLLMENT_FORM,
            enrollment_labels=ENROLLMENT_LABELS,
            codes=codes,
            guardian_codes=guardian_codes,
            booleans=set(BOOLEAN_FIELDS),
            form=form,
            errors=errors,
            unplaced=[m for name, ms in errors.items() if name not in RENDERED for m in ms],
            posted=request.method == "POST",
        )

    def _register(self, school: Any, form: Any) -> Student:
        problems: list[Violation] = []
        placed: list[tuple[str, Violation]] = []  # (form input, violation)
        scope = current_scope()
        if school is None:
            raise FormRefused([("school", Violation("required", "school", {}))])
        data: dict[str, Any] = {}
        for name in student_service.STUDENT_FORM_FIELDS:
            if name in BOOLEAN_FIELDS:
                data[name] = name in form
            else:
                data[name] = (form.get(name) or "").strip() or None
        if data.get("distance_km"):
            try:
                data["distance_km"] = float(data["distance_km"])
            except ValueError:
                problems.append(
                    Violation("import.number", "distance_km", {"value": data["distance_km"]})
                )
        problems += _length_problems(Student, data)
        guardians = []
        for seq in (1, 2):
            prefix = f"g{seq}_"
            values = {f: (form.get(prefix + f) or "").strip() or None for f in GUARDIAN_FORM}
            values["is_guardian"] = prefix + "is_guardian" in form
            if seq == 2 and not any(v for k, v in values.items() if k != "is_guardian"):
                continue  # 家庭成员二 is optional
            values["id_doc_type"] = values["id_doc_type"] or "1"
            problems += _length_problems(Guardian, values, f"guardian{seq}_")
            guardians.append(values)
        klass = None
        class_id = form.get("school_class") or ""
        if class_id.isdigit():
            klass = db.session.get(SchoolClass, int(class_id))
        if klass is None or klass not in self._classes(school):
            problems.append(Violation("required", "school_class", {}))
        elif not school_in_scope(db.session, scope, klass.school_id):
            problems.append(Violation("scope.school", "school", {}))
        entry = None
        try:
            entry = date.fromisoformat(form.get("entry_date") or "")
        except ValueError:
            problems.append(Violation("required", "entry_date", {}))
        uploads = [("photo", f) for f in request.files.getlist("photo_upload")]
        uploads += [("proof", f) for f in request.files.getlist("proof_upload")]
        files = [(kind, f.filename or "", f.read()) for kind, f in uploads if f and f.filename]
        limits = limits_from_config()
        for kind, _name, blob in files:
            try:
                validate_upload(kind, blob, limits=limits)
            except RuleError as exc:
                placed += [(f"{kind}_upload", v) for v in exc.violations]
        reason = (form.get("duplicate_reason") or "").strip() or None
        student = None
        if klass is not None and not problems and not placed:
            try:
                student = student_service.add_student(
                    db.session,
                    data,
                    guardians,
                    school_class=klass,
                    entry_date=entry or business_date(),
                    admission_method=(form.get("admission_method") or "").strip(),
                    study_mode=(form.get("study_mode") or "1").strip(),
                    student_source=(form.get("student_source") or "1").strip(),
                    today=business_date(),
                    duplicate_reason=reason,
                )
            except RuleError as exc:
                problems += exc.violations
        placed += [(_form_field(v.field), v) for v in problems]
        if placed or student is None:
            raise FormRefused(placed)
        if reason:
            set_audit_reason(db.session, "查重确认 / duplicate check confirmed: " + reason)
        for kind, filename, blob in files:
            store_student_file(db.session, student, kind, filename, blob, g.user.username)
        commit_files(db.session)
        return student


class FormRefused(Exception):
    """Every problem of a registration, each with the form input it belongs beside."""

    def __init__(self, problems: list[tuple[str, Violation]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _form_field(field: str) -> str:
    """Violations of family members name ``guardian1_relationship``; the form's input is
    ``g1_relationship_code``."""
    if field.startswith("guardian") and field[8:9] in "12" and field[9:10] == "_":
        name = field[10:]
        return f"g{field[8]}_{GUARDIAN_VIOLATION_FIELDS.get(name, name)}"
    return field
