"""Writing a student record: every bad field is named, and a refused record writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from admin.domain.idcard import make_id_number
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import Enrollment, Guardian, School, SchoolClass, SchoolYear, Student
from admin.services.students import add_student

TODAY = date(2026, 11, 28)
REGISTRY_TABLES = (Student, Guardian, Enrollment)
STUDENT_ID = make_id_number("640104", date(2020, 3, 17), 2)  # seq 002: female
FATHER_ID = make_id_number("640104", date(1988, 1, 1), 1)
WRONG_CHECK = STUDENT_ID[:17] + ("0" if STUDENT_ID[17] != "0" else "1")


def _world(session) -> SchoolClass:
    year = SchoolYear(code="2026-2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
    school = School(
        code="2164000001",
        name="兴庆区实验小学",
        kind="primary",
        primary_years=6,
        region_code="640104",
        urban_rural="111",
    )
    session.add_all([year, school])
    session.flush()
    klass = SchoolClass(
        school_id=school.id, school_year_id=year.id, grade_code="11", number=1, name="一年级(1)班"
    )
    session.add(klass)
    session.commit()
    return klass


def good_form(**changes) -> dict:
    form = {
        "name": "马小宁",
        "sex": "2",
        "birth_date": "20200317",
        "birthplace_code": "640104",
        "native_place_code": "640104",
        "ethnicity": "03",
        "nationality": "CHN",
        "id_doc_type": "1",
        "id_number": STUDENT_ID,
        "overseas_chinese": "00",
        "health": "10",
        "hukou_region_code": "640104",
        "hukou_type": "2",
        "current_address": "宁夏回族自治区银川市兴庆区解放街1号",
        "mailing_address": "宁夏回族自治区银川市兴庆区解放街1号",
        "home_address": "宁夏回族自治区银川市兴庆区解放街1号",
        "phone": "13995112233",
        "postal_code": "750001",
        "only_child": True,
        "preschool": True,
    }
    form.update(changes)
    return form


def good_guardians() -> list[dict]:
    return [
        {
            "name": "马建国",
            "relationship_code": "1",
            "phone": "13995112233",
            "is_guardian": True,
            "id_doc_type": "1",
            "id_number": FATHER_ID,
        },
        {"name": "李梅", "relationship_code": "2", "phone": "13995112234", "is_guardian": True},
    ]


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in REGISTRY_TABLES)


def _add(klass, form, guardians=None):
    return add_student(
        db.session,
        form,
        good_guardians() if guardians is None else guardians,
        school_class=klass,
        entry_date=date(2026, 9, 1),
        admission_method="11",
        today=TODAY,
    )


def test_valid_record_gets_an_l_number_and_everything_it_needs(initialized_app):
    with initialized_app.app_context():
        klass = _world(db.session)
        student = _add(klass, good_form(id_number=" " + STUDENT_ID.lower() + " "))
        db.session.commit()
        assert student.student_number.startswith("L64010420200317")
        assert student.student_number_kind == "L"
        assert student.id_number == STUDENT_ID  # normalised
        assert counts(db.session) == (1, 2, 1)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"id_number": WRONG_CHECK}, "id_number", "id_number.check_digit"),
        ({"id_number": "64010420200230002X"}, "id_number", "id_number.birth_date_invalid"),
        ({"birth_date": "2020-02-30"}, "birth_date", "date.invalid"),
        ({"birth_date": "20200318"}, "birth_date", "consistency.birth_date_mismatch"),
        ({"sex": "1"}, "sex", "consistency.sex_mismatch"),
        ({"ethnicity": "57"}, "ethnicity", "code.unknown"),
        ({"hukou_region_code": "649999"}, "hukou_region_code", "region.unknown"),
        ({"birthplace_code": "64010"}, "birthplace_code", "region.format"),
        ({"phone": "12345"}, "phone", "phone.format"),
        ({"name": " "}, "name", "required"),
        (
            {"birth_date": "20100317", "id_number": make_id_number("640104", date(2010, 3, 17), 2)},
            "birth_date",
            "consistency.age_for_grade",
        ),
    ],
)
def test_bad_field_is_named_and_nothing_is_written(initialized_app, changes, field, code):
    with initialized_app.app_context():
        klass = _world(db.session)
        before = counts(db.session)
        with pytest.raises(RuleError) as info:
            _add(klass, good_form(**changes))
        db.session.rollback()
        found = {(v.field, v.code) for v in info.value.violations}
        assert (field, code) in found, found
        violation = next(v for v in info.value.violations if v.code == code)
        assert violation.message("zh_CN") and violation.message("en")
        assert counts(db.session) == before


def test_messages_name_the_field_in_both_languages(initialized_app):
    with initialized_app.app_context():
        klass = _world(db.session)
        with pytest.raises(RuleError) as info:
            _add(klass, good_form(id_number=WRONG_CHECK))
        db.session.rollback()
        v = info.value.violations[0]
        assert v.message("zh_CN").startswith("身份证件号")
        assert v.message("en").startswith("ID number")


def test_no_id_needs_a_guardian_id(initialized_app):
    with initialized_app.app_context():
        klass = _world(db.session)
        guardians = good_guardians()
        guardians[0].pop("id_number")
        with pytest.raises(RuleError) as info:
            _add(klass, good_form(id_doc_type="Z", id_number=""), guardians)
        db.session.rollback()
        assert "consistency.guardian_id_required" in {v.code for v in info.value.violations}
        student = _add(klass, good_form(id_doc_type="Z", id_number=""))
        db.session.commit()
        assert student.id_number is None


def test_duplicate_id_refused_and_nothing_written(initialized_app):
    with initialized_app.app_context():
        klass = _world(db.session)
        _add(klass, good_form())
        db.session.commit()
        before = counts(db.session)
        with pytest.raises(RuleError) as info:
            _add(klass, good_form(name="马小夏"))
        db.session.rollback()
        # 查重 names the school that holds the ID, with the holder's name masked.
        (violation,) = info.value.violations
        assert violation.code == "registration.duplicate_id"
        message = violation.message("zh_CN")
        assert klass.school.name in message and "*" in message
        assert counts(db.session) == before


def test_same_name_sex_and_birth_date_needs_a_confirmed_reason(initialized_app):
    with initialized_app.app_context():
        klass = _world(db.session)
        first = _add(klass, good_form())
        db.session.commit()
        twin = good_form(id_doc_type="Z", id_number="")
        before = counts(db.session)
        with pytest.raises(RuleError) as info:
            _add(klass, twin)
        db.session.rollback()
        assert [v.code for v in info.value.violations] == ["registration.possible_duplicate"]
        assert klass.school.name in info.value.violations[0].message("zh_CN")
        assert counts(db.session) == before
        second = add_student(
            db.session,
            twin,
            good_guardians(),
            school_class=klass,
            entry_date=date(2026, 9, 1),
            admission_method="11",
            today=TODAY,
            duplicate_reason="同名同生日的另一名学生，家长已核实",
        )
        db.session.commit()
        assert second.id != first.id
