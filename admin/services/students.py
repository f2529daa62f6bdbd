"""Validating and writing a student record (the national form). Every rule answers with a
Violation naming the field; a record with any violation writes nothing. The guided
registration screen, 查重 and the bureau check build on these functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.consistency import (
    check_age_for_grade,
    check_form_matches_id,
    check_guardian_id_required,
)
from ..domain.fields import (
    parse_form_date,
    require,
    validate_code,
    validate_email,
    validate_phone,
    validate_postal_code,
    validate_region_code,
)
from ..domain.idcard import normalize_id_number, validate_id_number
from ..domain.messages import RuleError, Violation
from ..models import (
    CodeItem,
    Enrollment,
    Guardian,
    Region,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    StudentIdDocument,
    StudentNumberHistory,
)
from .numbering import new_l_number

# Form field → code set that holds its allowed values.
CODED_FIELDS = {
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
}
REGION_FIELDS = ("birthplace_code", "native_place_code", "hukou_region_code")
REQUIRED_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "birthplace_code",
    "native_place_code",
    "ethnicity",
    "nationality",
    "id_doc_type",
    "overseas_chinese",
    "health",
    "hukou_region_code",
    "hukou_type",
    "current_address",
    "mailing_address",
    "home_address",
    "phone",
    "postal_code",
)
RESIDENT_ID_TYPES = {"1"}  # 居民身份证: GB 11643 applies in full
NO_DOCUMENT_TYPE = "Z"  # 其他: the number may be blank; a guardian's ID is then required
GUARDIAN_FIELDS = (
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
)
STUDENT_FORM_FIELDS = (
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
    "name_pinyin",
    "former_name",
    "id_valid_period",
    "hukou_region_code",
    "hukou_type",
    "specialty",
    "aux_number",
    "current_address",
    "mailing_address",
    "home_address",
    "phone",
    "postal_code",
    "email",
    "homepage",
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
)


@dataclass
class CodeCatalog:
    """Codes in force today, per code set, and the known region codes."""

    codes: dict[str, set[str]] = field(default_factory=dict)
    regions: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, on: date) -> CodeCatalog:
        catalog = cls()
        rows = session.execute(
            select(CodeItem.code_set, CodeItem.code).where(
                CodeItem.valid_from <= on, (CodeItem.valid_to.is_(None)) | (CodeItem.valid_to >= on)
            )
        )
        for code_set, code in rows:
            catalog.codes.setdefault(code_set, set()).add(code)
        catalog.regions = set(session.scalars(select(Region.code)))
        return catalog


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_student_input(
    data: Mapping[str, Any],
    guardians: Sequence[Mapping[str, Any]],
    catalog: CodeCatalog,
    *,
    today: date,
    grade_code: str | None = None,
    school_year_start: date | None = None,
    primary_years: int = 6,
    age_tolerance_years: int = 2,
    check_guardians: bool = True,
) -> tuple[dict[str, Any], list[Violation]]:
    """Check one student's form; return the cleaned values and every violation found.
    With check_guardians=False the guardian-ID rule is left to the step that adds family
    members (the admin's one-table-at-a-time screens)."""
    problems: list[Violation] = []
    clean: dict[str, Any] = {k: data.get(k) for k in STUDENT_FORM_FIELDS}
    for name in REQUIRED_FIELDS:
        problems += require(data.get(name), field=name)
    for name, code_set in CODED_FIELDS.items():
        value = data.get(name)
        if not _blank(value):
            problems += validate_code(
                str(value).strip(), field=name, allowed=catalog.codes.get(code_set, set())
            )
    if data.get("sex") not in (None, "", "1", "2"):
        problems.append(Violation("code.unknown", "sex", {"value": data.get("sex")}))
    for name in REGION_FIELDS:
        value = data.get(name)
        if not _blank(value):
            _, region_problems = validate_region_code(
                str(value).strip(), field=name, known_codes=catalog.regions
            )
            problems += region_problems
    birth: date | None = None
    if not _blank(data.get("birth_date")):
        birth, date_problems = parse_form_date(data["birth_date"], field="birth_date", today=today)
        problems += date_problems
        clean["birth_date"] = birth
    if not _blank(data.get("phone")):
        problems += validate_phone(str(data["phone"]), field="phone")
    if not _blank(data.get("postal_code")):
        problems += validate_postal_code(str(data["postal_code"]), field="postal_code")
    if not _blank(data.get("email")):
        problems += validate_email(str(data["email"]), field="email")

    doc_type = (data.get("id_doc_type") or "").strip()
    raw_id = data.get("id_number")
    student_has_id = False
    if doc_type in RESIDENT_ID_TYPES:
        if _blank(raw_id):
            problems += require(raw_id, field="id_number")
        else:
            parsed, id_problems = validate_id_number(str(raw_id), today=today)
            problems += id_problems
            if parsed is not None:
                clean["id_number"] = parsed.number
                student_has_id = True
                if birth is not None and data.get("sex") in ("1", "2"):
                    problems += check_form_matches_id(str(data["sex"]), birth, parsed)
    elif doc_type == NO_DOCUMENT_TYPE:
        clean["id_number"] = None if _blank(raw_id) else normalize_id_number(str(raw_id))
    elif doc_type:
        if _blank(raw_id):
            problems += require(raw_id, field="id_number")
        else:
            clean["id_number"] = normalize_id_number(str(raw_id))
            student_has_id = True

    clean_guardians: list[dict[str, Any]] = []
    for index, guardian in enumerate(guardians, start=1):
        prefix = f"guardian{index}_"
        g = {k: guardian.get(k) for k in GUARDIAN_FIELDS}
        problems += require(guardian.get("name"), field=prefix + "name")
        problems += require(guardian.get("relationship_code"), field=prefix + "relationship")
        if not _blank(guardian.get("relationship_code")):
            problems += validate_code(
                str(guardian["relationship_code"]),
                field=prefix + "relationship",
                allowed=catalog.codes.get("family_relationship", set()),
            )
        if not _blank(guardian.get("phone")):
            problems += validate_phone(str(guardian["phone"]), field=prefix + "phone")
        if not _blank(guardian.get("id_number")):
            if (guardian.get("id_doc_type") or "1") in RESIDENT_ID_TYPES:
                parsed_g, g_problems = validate_id_number(
                    str(guardian["id_number"]), today=today, field=prefix + "id_number"
                )
                problems += g_problems
                g["id_number"] = parsed_g.number if parsed_g else g["id_number"]
            else:
                g["id_number"] = normalize_id_number(str(guardian["id_number"]))
        clean_guardians.append(g)
    if doc_type and check_guardians:
        problems += check_guardian_id_required(
            student_has_id, [g.get("id_number") for g in clean_guardians]
        )
    if birth is not None and grade_code and school_year_start is not None:
        problems += check_age_for_grade(
            birth,
            grade_code,
            school_year_start,
            primary_years,
            tolerance_years=age_tolerance_years,
        )
    clean["guardians"] = clean_guardians
    return clean, problems


def add_student(
    session: Session,
    data: Mapping[str, Any],
    guardians: Sequence[Mapping[str, Any]],
    *,
    school_class: SchoolClass,
    entry_date: date,
    admission_method: str,
    today: date,
    study_mode: str = "1",
    student_source: str = "1",
    age_tolerance_years: int = 2,
    duplicate_reason: str | None = None,
) -> Student:
    """Write a new student (L number, ID document, guardians, enrollment) in the caller's
    transaction after the national duplicate check (查重), or raise RuleError and write
    nothing."""
    school: School = school_class.school
    catalog = CodeCatalog.load(session, today)
    clean, problems = validate_student_input(
        data,
        guardians,
        catalog,
        today=today,
        grade_code=school_class.grade_code,
        school_year_start=school_class.school_year.start_date,
        primary_years=school.primary_years,
        age_tolerance_years=age_tolerance_years,
    )
    for name, value in (
        ("admission_method", admission_method),
        ("study_mode", study_mode),
        ("student_source", student_source),
    ):
        problems += validate_code(value, field=name, allowed=catalog.codes.get(name, set()))
    if not problems:
        problems += duplicate_check(
            session,
            id_number=clean.get("id_number"),
            name=clean.get("name"),
            sex=clean.get("sex"),
            birth_date=clean.get("birth_date"),
            duplicate_reason=duplicate_reason,
        )
    if problems:
        raise RuleError(problems)
    guardian_rows = clean.pop("guardians")
    savepoint = session.begin_nested()
    try:
        number = new_l_number(session, school.region_code, clean["birth_date"])
        records = new_student_records(
            clean,
            guardian_rows,
            number=number,
            school_class=school_class,
            entry_date=entry_date,
            admission_method=admission_method,
            study_mode=study_mode,
            student_source=student_source,
        )
        student = records[0]
        session.add_all(records)
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        if "id_number" in str(exc.orig) or "uq_student_id_document" in str(exc.orig):
            raise RuleError(
                [Violation("id_number.duplicate", "id_number", {"value": clean.get("id_number")})]
            ) from None
        raise
    savepoint.commit()
    return student


def new_student_records(
    clean: Mapping[str, Any],
    guardians: Sequence[Mapping[str, Any]],
    *,
    number: str,
    school_class: SchoolClass,
    entry_date: date,
    admission_method: str,
    study_mode: str,
    student_source: str,
) -> list[Any]:
    """The rows of one newly registered student, as the registration form and the import
    write them: the student first (L number, 在校, its school and class), then its number and
    ID-document history, family members and the enrollment. Not added to any session."""
    student = Student(
        **clean,
        student_number=number,
        student_number_kind="L",
        current_status="01",
        current_school_id=school_class.school_id,
        current_class_id=school_class.id,
        current_grade_code=school_class.grade_code,
    )
    records: list[Any] = [
        student,
        StudentNumberHistory(student=student, number=number, kind="L"),
        StudentIdDocument(
            student=student,
            doc_type=clean["id_doc_type"],
            number=clean.get("id_number"),
            valid_period=clean.get("id_valid_period"),
        ),
    ]
    records += [Guardian(student=student, seq=seq, **g) for seq, g in enumerate(guardians, 1)]
    records.append(
        Enrollment(
            student=student,
            school_id=school_class.school_id,
            school_year_id=school_class.school_year_id,
            class_id=school_class.id,
            grade_code=school_class.grade_code,
            stage_entry_ym=f"{entry_date:%Y%m}",
            entry_date=entry_date,
            admission_method=admission_method,
            study_mode=study_mode,
            student_source=student_source,
        )
    )
    return records


def _record_of(student: Student) -> dict[str, Any]:
    return {name: getattr(student, name) for name in STUDENT_FORM_FIELDS}


def _raise_if(problems: list[Violation]) -> None:
    if problems:
        raise RuleError(problems)


def prepare_new_student(
    session: Session,
    student: Student,
    today: date | None = None,
    duplicate_reason: str | None = None,
) -> None:
    """Validate a student created on the admin's student screen, run the national duplicate
    check (查重), and give it its L number, number history and ID-document history (flushed
    with the student)."""
    today = today or date.today()
    catalog = CodeCatalog.load(session, today)
    clean, problems = validate_student_input(
        _record_of(student), [], catalog, today=today, check_guardians=False
    )
    if student.current_school is None:
        problems.append(Violation("required", "school", {}))
    if not problems:
        problems += duplicate_check(
            session,
            id_number=clean.get("id_number"),
            name=clean.get("name"),
            sex=clean.get("sex"),
            birth_date=clean.get("birth_date"),
            duplicate_reason=duplicate_reason,
        )
    _raise_if(problems)
    clean.pop("guardians")
    for name, value in clean.items():
        setattr(student, name, value)
    number = new_l_number(session, student.current_school.region_code, clean["birth_date"])
    student.student_number = number
    student.student_number_kind = "L"
    student.current_status = student.current_status or "01"
    session.add(StudentNumberHistory(student=student, number=number, kind="L"))
    session.add(
        StudentIdDocument(
            student=student,
            doc_type=clean["id_doc_type"],
            number=clean.get("id_number"),
            valid_period=clean.get("id_valid_period"),
        )
    )


def check_student_update(session: Session, student: Student, today: date | None = None) -> None:
    """Validate an edited record (key fields are not editable here; see DOMAIN §1.4)."""
    today = today or date.today()
    catalog = CodeCatalog.load(session, today)
    clean, problems = validate_student_input(
        _record_of(student), [], catalog, today=today, check_guardians=False
    )
    _raise_if(problems)
    clean.pop("guardians")
    for name in ("phone", "postal_code", "email"):
        if clean.get(name) is not None:
            setattr(student, name, clean[name])


def check_guardian(session: Session, guardian: Guardian, scope: Any = None) -> None:
    today = date.today()
    catalog = CodeCatalog.load(session, today)
    problems: list[Violation] = []
    problems += require(guardian.name, field="guardian_name")
    problems += validate_code(
        guardian.relationship_code,
        field="guardian1_relationship",
        allowed=catalog.codes.get("family_relationship", set()),
    )
    if guardian.seq not in (1, 2):
        problems.append(Violation("code.unknown", "guardian_name", {"value": guardian.seq}))
    if not _blank(guardian.phone):
        problems += validate_phone(guardian.phone, field="guardian_phone")
    if not _blank(guardian.id_number) and (guardian.id_doc_type or "1") in RESIDENT_ID_TYPES:
        parsed, id_problems = validate_id_number(
            guardian.id_number, today=today, field="guardian_id_number"
        )
        problems += id_problems
        if parsed is not None:
            guardian.id_number = parsed.number
    _raise_if(problems)


def check_enrollment(session: Session, enrollment: Enrollment) -> None:
    """Keep an enrollment consistent with its class and mirror the current one on Student."""
    klass = enrollment.school_class
    problems: list[Violation] = []
    if klass is None:
        problems.append(Violation("required", "school", {}))
    _raise_if(problems)
    enrollment.school = klass.school
    enrollment.school_id = klass.school_id
    enrollment.school_year = klass.school_year
    enrollment.school_year_id = klass.school_year_id
    enrollment.grade_code = klass.grade_code
    if enrollment.is_active is None:
        enrollment.is_active = True
    student = enrollment.student
    latest_year = session.scalar(select(func.max(SchoolYear.start_date)))
    if (
        student is not None
        and enrollment.is_active
        and klass.school_year is not None
        and klass.school_year.start_date == latest_year
    ):
        student.current_school = klass.school
        student.current_class = klass
        student.current_grade_code = klass.grade_code


def confirm_contact_details(session: Session, students: Sequence[Student], actor: str) -> int:
    """Record that each student's contact details were checked with the family today
    (drives the staleness report)."""
    from ..models.students import utcnow

    now = utcnow()
    for student in students:
        student.contact_confirmed_at = now
        student.updated_by = actor
    return len(students)


# --- 查重: the national duplicate check at registration ----------------------------------------


def duplicate_check(
    session: Session,
    *,
    id_number: str | None,
    name: str | None,
    sex: str | None,
    birth_date: date | None,
    duplicate_reason: str | None = None,
    exclude_id: int | None = None,
) -> list[Violation]:
    """全国查重 (DOMAIN §1.3): the same normalised ID number anywhere in the country refuses
    the registration and names the school that holds it (the name masked); the same name, sex
    and birth date only warns, and passes once the clerk confirms with a reason (the reason is
    audited by the caller)."""
    from ..security.masking import mask_value

    problems: list[Violation] = []
    if id_number:
        normalized = normalize_id_number(id_number)
        query = select(Student).where(Student.id_number == normalized)
        if exclude_id is not None:
            query = query.where(Student.id != exclude_id)
        holder = session.scalars(query.limit(1)).first()
        if holder is not None:
            school = session.get(School, holder.current_school_id)
            problems.append(
                Violation(
                    "registration.duplicate_id",
                    "id_number",
                    {
                        "school": school.name if school else "—",
                        "name": mask_value("name", holder.name),
                        "student_number": holder.student_number,
                    },
                )
            )
            return problems
    if name and sex and birth_date and not (duplicate_reason or "").strip():
        query = select(Student).where(
            Student.name == name.strip(), Student.sex == sex, Student.birth_date == birth_date
        )
        if exclude_id is not None:
            query = query.where(Student.id != exclude_id)
        twins = session.scalars(query.limit(5)).all()
        if twins:
            schools = sorted(
                {
                    s.name
                    for s in session.scalars(
                        select(School).where(School.id.in_([t.current_school_id for t in twins]))
                    )
                }
            )
            problems.append(
                Violation(
                    "registration.possible_duplicate",
                    "name",
                    {"count": len(twins), "schools": "、".join(schools)},
                )
            )
    return problems
