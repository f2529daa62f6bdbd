"""A teacher takes the day's attendance and enters a paper's scores, the registrar publishes
the results, and the parent signs in on a phone-sized screen and sees the sick day in the
attendance calendar and the score beside the class average — in a real browser against a
real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.e2e.conftest import serve_lifecycle_copy, sign_in
from tests.lifecycle.conftest import PASSWORD, TODAY, lifecycle_templates  # noqa: F401


def _prepare(url: str, folder, cast) -> dict[str, object]:
    """The teacher becomes class teacher of a class (grade 3 or above: exams allowed), a
    draft maths exam covers it, and a parent account is linked to one of its students."""
    from admin.extensions import db
    from admin.models import SchoolClass, Student, TeachingAssignment, Term
    from admin.security.scope import scope_for_user
    from admin.services import exams, parents
    from admin.services.accounts import create_account
    from admin.services.attendance import class_students

    app = make_app(url, folder)
    with app.app_context():
        s = db.session
        sending = s.get(Student, cast.student).current_school_id
        term = s.scalars(
            select(Term).where(Term.start_date <= TODAY, Term.end_date >= TODAY)
        ).first()
        klass = next(
            c
            for c in s.scalars(
                select(SchoolClass)
                .where(
                    SchoolClass.school_id == sending,
                    SchoolClass.school_year_id == term.school_year_id,
                    SchoolClass.grade_code.not_in(("11", "12")),
                )
                .order_by(SchoolClass.grade_code, SchoolClass.number)
            )
            if len(class_students(s, c)) >= 3
        )
        students = class_students(s, klass)
        sm = app.appbuilder.sm
        s.add(TeachingAssignment(user_id=sm.find_user(username="teacher_s").id, class_id=klass.id))
        s.commit()
        registrar = scope_for_user(s, sm.find_user(username="reg_s"))
        exam = exams.create_exam(
            s,
            registrar,
            school=klass.school,
            term=term,
            grade_code=klass.grade_code,
            name="浏览器测试期末考试",
            kind="final",
            exam_date=TODAY - timedelta(days=3),
            subjects=[exams.Paper("math", 100)],
            class_ids=[klass.id],
            username="reg_s",
        )
        s.commit()
        create_account(username="parent_e2e", password=PASSWORD, role="Parent")
        child = students[0]
        parents.link_parent(
            s,
            registrar,
            child,
            username="parent_e2e",
            guardian_id_number=next(g.id_number for g in child.guardians if g.id_number),
            actor="reg_s",
        )
        s.commit()
        info = {
            "class": klass.id,
            "exam": exam.id,
            "child": child.id,
            "child_name": child.name,
            "others": [(x.id, x.name) for x in students[1:3]],
        }
        db.session.remove()
        db.engine.dispose()
    return info


@pytest.fixture
def teaching_server(lifecycle_templates, tmp_path) -> Iterator[dict[str, object]]:  # noqa: F811
    yield from serve_lifecycle_copy(lifecycle_templates, tmp_path, "e2e-teaching", _prepare)


def _sign_in(browser, base: str, username: str, **context_options):
    return sign_in(browser, base, username, PASSWORD, **context_options)


def test_teacher_records_and_the_parent_sees_them(teaching_server, browser, tmp_path):
    base, klass, exam = teaching_server["base"], teaching_server["class"], teaching_server["exam"]
    child = teaching_server["child"]
    (other_a, name_a), (other_b, _name_b) = teaching_server["others"]

    # The class teacher marks the child on sick leave: everyone else stays present.
    context, page = _sign_in(browser, base, "teacher_s")
    page.goto(f"{base}/attendance/?class={klass}&date={TODAY.isoformat()}")
    page.select_option(f"select[name=mark_{child}]", "sick")
    page.click("#attendance-save")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert-success").count() == 1
    assert page.locator(f"select[name=mark_{child}]").input_value() == "sick"
    assert page.locator(f"select[name=mark_{other_a}]").input_value() == ""

    # Scores typed like a spreadsheet: Enter moves to the next student.
    page.goto(f"{base}/exam/{exam}/scores?class={klass}&subject=math")
    page.click(f"input[name=score_{child}]")
    page.keyboard.type("92")
    page.keyboard.press("Enter")
    page.keyboard.type("78")
    page.keyboard.press("Enter")
    page.keyboard.type("缺考")
    assert page.locator(f"input[name=score_{other_a}]").input_value() == "78"
    page.fill(f"input[name=score_{other_b}]", "130")  # above the full mark: refused
    page.click("#score-save")
    page.wait_for_load_state("networkidle")
    assert "100" in page.inner_text(".alert-danger, .text-danger")
    assert page.locator(f"input[name=score_{child}]").input_value() == "92"  # input kept
    page.fill(f"input[name=score_{other_b}]", "66")
    page.click("#score-save")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert-danger").count() == 0
    page.screenshot(path=str(tmp_path / "scores.png"), full_page=True)
    context.close()

    # The registrar publishes.
    context, page = _sign_in(browser, base, "reg_s")
    page.goto(f"{base}/exam/{exam}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#exam-publish button")
    page.wait_for_load_state("networkidle")
    assert "reg_s" in page.inner_text("#exam-state")
    context.close()

    # The parent, on a phone.
    context, page = _sign_in(
        browser, base, "parent_e2e", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page.goto(f"{base}/parent/")
    page.wait_for_load_state("networkidle")
    assert teaching_server["child_name"] in page.inner_text("#child-name")
    page.goto(f"{base}/parent/attendance/{child}?month={TODAY:%Y-%m}")
    assert "病假" in page.inner_text(f"td[data-day='{TODAY.isoformat()}']")
    page.goto(f"{base}/parent/results/{child}")
    result = page.inner_text(".exam-result")
    assert "浏览器测试期末考试" in result and "92" in result
    assert "78.7" in result  # class average of 92, 78 and 66
    assert name_a not in page.content()
    page.screenshot(path=str(tmp_path / "parent.png"), full_page=True)
    # Another child of the class is not reachable.
    response = page.goto(f"{base}/parent/results/{other_a}")
    assert response.status == 404
    context.close()
