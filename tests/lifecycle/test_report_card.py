"""学生成绩报告单: one student's term report card — published results only (a draft exam and an
exam of another term stay off it), the term's attendance with its rate, the publicized
evaluation with the class teacher's comment — printed as a PDF with Chinese text; the parent
gets only their own child's card for a term of the child's school year, and school staff
only a student in their scope."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from admin.domain.calendar import WorkingCalendar
from admin.extensions import db
from admin.models import (
    Guardian,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    TeachingAssignment,
    Term,
    UserScope,
)
from admin.security.scope import scope_for_user
from admin.services import attendance, evaluations, exams, parents
from admin.services import report_card as service
from tests.lifecycle.conftest import TODAY
from tests.scope.conftest import login

CALENDAR = WorkingCalendar()
SETTINGS = exams.ExamSettings()
COMPULSORY_GRADES = ("13", "14", "15", "21", "22")  # paper exams allowed (not grades 1–2)
COMMENT = "学习认真积极向上"


@dataclass
class World:
    child: int
    other: int
    klass: int
    term: int
    next_term: int
    subject_zh: str
    dimension_zh: str
    parent: int


def _scope(lc, username: str):
    return scope_for_user(db.session, lc.app.appbuilder.sm.find_user(username=username))


def _guardian_number(student_id: int) -> str | None:
    return db.session.scalars(
        select(Guardian.id_number).where(
            Guardian.student_id == student_id,
            Guardian.is_guardian.is_(True),
            Guardian.id_number.is_not(None),
        )
    ).first()


def _with_guardian(students: list[Student]) -> list[Student]:
    return [s for s in students if _guardian_number(s.id)]


def _class(lc, term: Term) -> tuple[SchoolClass, list[Student]]:
    """A class of the lifecycle school S in a grade that may hold paper exams."""
    classes = db.session.scalars(
        select(SchoolClass)
        .where(
            SchoolClass.school_id == lc.cast.sending,
            SchoolClass.school_year_id == term.school_year_id,
            SchoolClass.grade_code.in_(COMPULSORY_GRADES),
        )
        .order_by(SchoolClass.grade_code, SchoolClass.number)
    ).all()
    for klass in classes:
        students = attendance.class_students(db.session, klass)
        if len(students) >= 3 and _with_guardian(students):
            return klass, students
    raise AssertionError("school S has no compulsory class with a guardian on record")


def _exam(lc, term: Term, grade: str, name: str, day: date):
    exam = exams.create_exam(
        db.session,
        _scope(lc, "reg_s"),
        school=db.session.get(School, lc.cast.sending),
        term=term,
        grade_code=grade,
        name=name,
        kind="final",
        exam_date=day,
        subjects=[("math", 100), ("chinese", 120)],
        username="reg_s",
    )
    db.session.commit()
    return exam


def _enter(lc, exam, klass, subject: str, cells: dict[int, str]) -> None:
    exams.save_scores(db.session, _scope(lc, "reg_s"), exam, klass, subject, cells, "reg_s")
    db.session.commit()


def _build(lc) -> World:
    s = db.session
    term = s.scalars(select(Term).where(Term.start_date <= TODAY, Term.end_date >= TODAY)).first()
    next_term = s.scalars(
        select(Term).where(
            Term.school_year_id == term.school_year_id, Term.number == term.number + 1
        )
    ).one()
    klass, students = _class(lc, term)
    child = _with_guardian(students)[0]
    others = [x for x in students if x.id != child.id][:2]
    registrar = _scope(lc, "reg_s")
    # A published exam, a draft one, and a published one of the next term.
    published = _exam(lc, term, klass.grade_code, "期末考试", term.start_date + timedelta(days=60))
    draft = _exam(lc, term, klass.grade_code, "草稿测验", term.start_date + timedelta(days=61))
    later = _exam(
        lc, next_term, klass.grade_code, "下学期考试", next_term.start_date + timedelta(days=20)
    )
    _enter(lc, published, klass, "math", {child.id: "93", others[0].id: "71", others[1].id: "82"})
    _enter(lc, published, klass, "chinese", {child.id: "108"})
    _enter(lc, draft, klass, "math", {child.id: "13.5"})
    _enter(lc, later, klass, "math", {child.id: "64.5"})
    exams.publish(s, registrar, published, "reg_s")
    exams.publish(s, registrar, later, "reg_s")
    s.commit()
    # Attendance: a sick day and a late arrival this month.
    days = attendance.school_days(s, klass, TODAY - timedelta(days=20), TODAY, CALENDAR)
    for day, kind in ((days[-3], "sick"), (days[-2], "late")):
        attendance.record_day(
            s, registrar, klass, day, {child.id: kind}, username="reg_s", today=TODAY,
            calendar=CALENDAR, reason="entered late",
        )  # fmt: skip
    s.commit()
    # The evaluation, graded and publicized from today.
    all_a = {code: "A" for code in evaluations.DIMENSIONS}
    evaluations.set_grades(
        s,
        registrar,
        klass,
        term,
        {x.id: all_a for x in students},
        username="reg_s",
        comments={child.id: COMMENT},
    )
    evaluations.publicize(
        s,
        registrar,
        klass,
        term,
        TODAY,
        today=TODAY,
        username="reg_s",
        settings=evaluations.settings_from(lc.app.config),
    )
    s.commit()
    link = parents.link_parent(
        s,
        registrar,
        child,
        username="parent_card",
        guardian_id_number=_guardian_number(child.id),
        actor="reg_s",
    )
    s.commit()
    # The parent has set their own password (a new account's one-time password expires).
    s.get(UserScope, link.user_id).password_changed_at = datetime.now(UTC).replace(tzinfo=None)
    s.add(TeachingAssignment(user_id=lc.cast.users["teacher_s"], class_id=klass.id))  # 班主任
    s.commit()
    names = exams.code_names(s, "subject")
    return World(
        child=child.id,
        other=others[0].id,
        klass=klass.id,
        term=term.id,
        next_term=next_term.id,
        subject_zh=names["math"][0],
        dimension_zh=evaluations.DIMENSIONS["moral"].value,
        parent=link.user_id,
    )


def _text(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", "", text)  # CJK lines wrap anywhere


def test_report_card_contents(lc):
    with lc.app.app_context():
        w = _build(lc)
        card = service.term_report_card(
            db.session, w.child, w.term, today=TODAY, exam_settings=SETTINGS, calendar=CALENDAR
        )
        child = db.session.get(Student, w.child)
        klass = db.session.get(SchoolClass, w.klass)
        term = db.session.get(Term, w.term)
        school = db.session.get(School, klass.school_id)
        # Only the published exam of this term.
        assert [e.name for e in card.exams] == ["期末考试"]
        math = next(s for s in card.exams[0].subjects if s.subject_code == "math")
        assert (math.score, math.class_average) == ("93", 82)
        assert card.exams[0].class_rank is None  # 义务教育: no ranks for families
        # Attendance from the term's start to today: one sick day of n school days.
        n = len(attendance.school_days(db.session, klass, term.start_date, TODAY, CALENDAR))
        summary = card.attendance
        assert (summary.school_days, summary.absent_days, summary.late) == (n, 1, 1)
        rate = f"{(1 - 1 / n) * 100:.1f}%"
        assert attendance.percent(summary.attendance_rate) == rate
        assert card.evaluation is not None and card.evaluation.comment == COMMENT
        text = _text(service.render_report_card_pdf(card))
        for expected in (
            child.name,
            child.student_number,
            school.name,
            "学生成绩报告单",
            w.subject_zh,
            "93（优秀）",
            "出勤率",
            rate,
            w.dimension_zh,
            COMMENT,
            TODAY.isoformat(),
            "XueJi",
        ):
            assert expected in text, expected
        for hidden in ("草稿测验", "13.5", "下学期考试", "64.5", "班级名次"):
            assert hidden not in text, hidden
        # The next term's card has that term's exam, no attendance yet, no evaluation.
        later = service.term_report_card(
            db.session,
            w.child,
            w.next_term,
            today=TODAY,
            exam_settings=SETTINGS,
            calendar=CALENDAR,
        )
        assert [e.name for e in later.exams] == ["下学期考试"]
        assert later.attendance is None and later.evaluation is None
        text = _text(service.render_report_card_pdf(later))
        assert "64.5" in text and "本学期评价尚未公示" in text


def test_a_draft_evaluation_stays_off_the_card(lc):
    with lc.app.app_context():
        term = db.session.scalars(
            select(Term).where(Term.start_date <= TODAY, Term.end_date >= TODAY)
        ).first()
        klass, students = _class(lc, term)
        evaluations.set_grades(
            db.session,
            _scope(lc, "reg_s"),
            klass,
            term,
            {students[0].id: {"moral": "B"}},
            username="reg_s",
            comments={students[0].id: "草稿评语"},
        )
        db.session.commit()
        card = service.term_report_card(
            db.session, students[0].id, term.id, today=TODAY, exam_settings=SETTINGS,
            calendar=CALENDAR,
        )  # fmt: skip
        assert card.evaluation is None and card.exams == ()
        text = _text(service.render_report_card_pdf(card))
        assert "草稿评语" not in text and "本学期尚无已发布的考试成绩" in text


def test_who_gets_the_report_card(lc):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    with lc.app.app_context():
        w = _build(lc)
        other_name = db.session.get(Student, w.other).name
        # A term of another school year.
        year = SchoolYear(code="2019-2020", start_date=date(2019, 9, 1), end_date=date(2020, 7, 31))
        db.session.add(year)
        db.session.flush()
        old = Term(
            school_year_id=year.id,
            number=1,
            start_date=date(2019, 9, 1),
            end_date=date(2020, 1, 20),
        )
        db.session.add(old)
        db.session.commit()
        old_term = old.id
        users = lc.cast.users
    parent = lc.app.test_client()
    login(parent, w.parent)
    own = f"/parent/reportcard/{w.child}/{w.term}.pdf"
    page = parent.get(f"/parent/results/{w.child}?_l_=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and own in html
    assert f"/parent/reportcard/{w.child}/{w.next_term}.pdf" not in html  # not started yet
    response = parent.get(own)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "期末考试" in _text(response.data)
    for url in (
        f"/parent/reportcard/{w.other}/{w.term}.pdf",
        f"/parent/reportcard/{w.child}/{old_term}.pdf",
        f"/parent/reportcard/{w.child}/999999.pdf",
    ):
        response = parent.get(url)
        assert response.status_code == 404, url
        assert other_name not in response.get_data(as_text=True)
    # The parent has no staff route.
    staff_url = f"/reportcard/{w.child}/{w.term}.pdf"
    assert parent.get(staff_url).status_code != 200
    # School staff: the school's registrar and the class teacher, not another school.
    for username in ("reg_s", "teacher_s"):
        client = lc.app.test_client()
        login(client, users[username])
        response = client.get(staff_url)
        assert response.status_code == 200 and response.mimetype == "application/pdf", username
    stranger = lc.app.test_client()
    login(stranger, users["reg_r"])
    assert stranger.get(staff_url).status_code == 404
    registrar = lc.app.test_client()
    login(registrar, users["reg_s"])
    assert registrar.get(f"/reportcard/{w.child}/{old_term}.pdf").status_code == 404
    # The class grid of the evaluation screen links the card.
    page = registrar.get(f"/evaluation/?class={w.klass}&term={w.term}&_l_=en")
    assert page.status_code == 200 and staff_url in page.get_data(as_text=True)
