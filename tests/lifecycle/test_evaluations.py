"""综合素质评价: 写实记录 with their refusals, the class grade grid saved all or nothing, the
publicity window with objections (upheld → revised → publicized again; dismissed →
publicized), finalizing and the effective state, who may do what, the report PDF, and the
screens — on the seeded registry, SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from admin.domain.evaluation import EvalState
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import (
    AuditLog,
    Evaluation,
    EvaluationObjection,
    EvaluationRecord,
    ParentLink,
    SchoolClass,
    Student,
    StudentFile,
    TeachingAssignment,
    Term,
    TermEvaluation,
)
from admin.security.masking import mask_changes
from admin.security.scope import scope_for_user
from admin.services import evaluations as service
from admin.services.accounts import create_account
from admin.services.attendance import class_students
from admin.uploads.storage import FileStore
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import login

SETTINGS = service.EvaluationSettings(
    rule=service.rules.PublicityRule(5), calendar=service.settings_from({}).calendar
)
ALL_A = {code: "A" for code in service.DIMENSIONS}
# TODAY is Monday 2026-11-30: five working days end on Friday 2026-12-04.
END = date(2026, 12, 4)


def _scope(lc, username):
    return scope_for_user(db.session, lc.app.appbuilder.sm.find_user(username=username))


def _setup(lc) -> tuple[SchoolClass, Term, list[Student]]:
    """teacher_s becomes class teacher (班主任) of the lifecycle student's class."""
    student = db.session.get(Student, lc.cast.student)
    klass = db.session.get(SchoolClass, student.current_class_id)
    db.session.add(TeachingAssignment(user_id=lc.cast.users["teacher_s"], class_id=klass.id))
    db.session.commit()
    term = service.term_on(db.session, klass, TODAY)
    assert term.start_date <= TODAY <= term.end_date
    return klass, term, class_students(db.session, klass)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _refused(call, *args, **kwargs) -> list:
    with pytest.raises(RuleError) as refused:
        call(*args, **kwargs)
    db.session.rollback()
    return refused.value.violations


def _grade_all(lc, klass, term, students, username="teacher_s"):
    service.set_grades(
        db.session,
        _scope(lc, username),
        klass,
        term,
        {s.id: ALL_A for s in students},
        username=username,
    )
    db.session.commit()


def test_records_and_their_refusals(lc):
    with lc.app.app_context():
        klass, term, students = _setup(lc)
        student = students[0]
        teacher = _scope(lc, "teacher_s")
        inside = term.start_date + timedelta(days=10)

        def add(scope=teacher, **kw):
            values = {
                "dimension": "practice",
                "kind": "practice",
                "title": "社区志愿服务",
                "happened_on": inside,
                "hours": "3.5",
                "today": TODAY,
                "username": "teacher_s",
            }
            values.update(kw)
            return service.add_record(db.session, scope, student, term, **values)

        cases = [
            ({"happened_on": term.start_date - timedelta(days=1)}, "evaluation.outside_term", "record_date"),
            ({"happened_on": TODAY + timedelta(days=1)}, "date.future", "record_date"),
            ({"kind": "award", "issuer": "市教育局"}, "required", "award_level"),
            ({"kind": "award", "award_level": "city"}, "required", "issuer"),
            ({"kind": "award", "award_level": "galactic", "issuer": "x"}, "code.unknown", "award_level"),
            ({"hours": "-2"}, "evaluation.hours_range", "hours"),
            ({"hours": "1.25"}, "evaluation.hours_format", "hours"),
            ({"hours": ""}, "required", "hours"),  # practice needs its hours
            ({"title": "  "}, "required", "record_title"),
            ({"dimension": "beauty"}, "code.unknown", "evaluation"),
        ]  # fmt: skip
        for values, code, field in cases:
            violations = _refused(add, **values)
            assert (code, field) in {(v.code, v.field) for v in violations}, values
        outside = _refused(add, happened_on=date(2026, 8, 1))[0]
        assert "发生日期" in outside.message("zh_CN") and "Date" in outside.message("en")
        # An evidence file that is not an image or PDF is refused with the record.
        bad_file = _refused(add, evidence=service.Evidence("x.png", b"not an image"))
        assert {v.field for v in bad_file} <= {"proof", "file"}
        # Someone from another school may not keep this student's records.
        assert _refused(add, scope=_scope(lc, "reg_r"))[0].code == "evaluation.not_allowed"
        files_before = _count(StudentFile)
        assert _count(EvaluationRecord) == 0

        add()
        add(dimension="moral", kind="activity", title="班级值日", hours="", role="组长")
        award = add(
            dimension="arts",
            kind="award",
            title="合唱比赛一等奖",
            hours=None,
            award_level="city",
            issuer="市教育局",
            description="担任领唱",
            evidence=service.Evidence("奖状.png", _png()),
            store=FileStore.for_app(),
            scope=_scope(lc, "reg_s"),
        )
        add(hours="２")  # full-width digits are fine
        db.session.commit()
        assert award.evidence_file_id is not None
        assert _count(StudentFile) == files_before + 1
        rows = service.records(db.session, student.id, term.id)
        assert [r.kind for r in rows].count("practice") == 2
        assert service.practice_hours(rows) == Decimal("5.5")
        report = service.student_report(db.session, student.id, term.id, TODAY)
        assert report.practice_hours == Decimal("5.5")
        assert [r.title for r in report.records["arts"]] == ["合唱比赛一等奖"]
        assert report.records["arts"][0].award_level_zh == "市级"
        assert report.records["moral"][0].role == "组长"
        # Every write is audited; the free-text description is masked for the leader.
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "evaluation_record")
        ).first()
        assert entry is not None
        masked = mask_changes(
            "evaluation_record", {"description": "担任领唱"}, _scope(lc, "lead_s")
        )
        assert masked == {"description": "***"}
        # Removing a record; the leader (read-only for records) may not.
        assert (
            _refused(
                service.delete_record, db.session, _scope(lc, "lead_s"), award, username="lead_s"
            )[0].code
            == "evaluation.not_allowed"
        )
        service.delete_record(db.session, teacher, award, username="teacher_s")
        db.session.commit()
        assert len(service.records(db.session, student.id, term.id)) == 3


def test_grading_is_all_or_nothing_and_for_the_class_teacher(lc):
    with lc.app.app_context():
        klass, term, students = _setup(lc)
        teacher = _scope(lc, "teacher_s")
        bad = {s.id: dict(ALL_A) for s in students}
        bad[students[1].id]["arts"] = "E"
        violations = _refused(
            service.set_grades, db.session, teacher, klass, term, bad, username="teacher_s"
        )
        assert [v.code for v in violations] == ["evaluation.for_student"]
        message = violations[0].message("zh_CN")
        assert students[1].name in message and "艺术素养" in message and "E" in message
        assert _count(TermEvaluation) == 0 and _count(Evaluation) == 0
        # A student who is not in the class refuses the save as well.
        assert (
            _refused(
                service.set_grades,
                db.session,
                teacher,
                klass,
                term,
                {students[0].id: ALL_A, 999_999: ALL_A},
                username="teacher_s",
            )[-1].code
            == "evaluation.not_in_class"
        )
        assert _count(TermEvaluation) == 0
        # Not the class teacher of that class; the leader reads only; a subject teacher
        # keeps records but does not grade.
        other = db.session.get(SchoolClass, lc.cast.other_class)
        for username, target in (("teacher_s", other), ("lead_s", klass)):
            assert (
                _refused(
                    service.set_grades,
                    db.session,
                    _scope(lc, username),
                    target,
                    term,
                    {},
                    username=username,
                )[0].code
                == "evaluation.not_allowed"
            )
        create_account(
            username="math_s", password=PASSWORD, role="Teacher", school=klass.school.code
        )
        math = lc.app.appbuilder.sm.find_user(username="math_s")
        db.session.add(TeachingAssignment(user_id=math.id, class_id=klass.id, subject_code="math"))
        db.session.commit()
        assert not service.may_grade(db.session, _scope(lc, "math_s"), klass, "math_s")
        assert service.may_record(db.session, _scope(lc, "math_s"), klass)

        comments = {students[0].id: "积极参加集体活动。"}
        result = service.set_grades(
            db.session,
            teacher,
            klass,
            term,
            {s.id: ALL_A for s in students},
            comments=comments,
            username="teacher_s",
        )
        db.session.commit()
        assert result.changed == len(students)
        assert _count(Evaluation) == 5 * len(students)  # one row per graded dimension
        # Changing one grade; a blank removes that grade.
        service.set_grades(
            db.session,
            _scope(lc, "reg_s"),
            klass,
            term,
            {students[0].id: {"health": "b", "arts": ""}},
            username="reg_s",
        )
        db.session.commit()
        row = service.term_evaluation(db.session, students[0].id, term.id)
        assert {g.dimension: g.level for g in row.grades} == {
            "moral": "A",
            "academic": "A",
            "health": "B",
            "practice": "A",
        }
        assert row.comment == "积极参加集体活动。"
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "evaluation").order_by(AuditLog.id.desc())
        ).first()
        assert entry is not None


def test_publicity_window_objections_and_finalizing(lc):
    with lc.app.app_context():
        assert SETTINGS.rule.length == 5  # the default
        configured = service.settings_from({"XUEJI_EVALUATION_PUBLICITY_DAYS": 3})
        assert configured.rule.end_date(TODAY, configured.calendar.is_working_day) == date(
            2026, 12, 2
        )
        klass, term, students = _setup(lc)
        a, b, c = students[:3]
        teacher = _scope(lc, "teacher_s")
        grades = {s.id: dict(ALL_A) for s in students}
        del grades[c.id]["health"]
        service.set_grades(db.session, teacher, klass, term, grades, username="teacher_s")
        db.session.commit()

        def publicize(start=TODAY, today=TODAY, scope=teacher):
            return service.publicize(
                db.session,
                scope,
                klass,
                term,
                start,
                today=today,
                username="teacher_s",
                settings=SETTINGS,
            )

        violation = _refused(publicize)[0]
        assert violation.code == "evaluation.ungraded_students"
        assert c.name in violation.message("zh_CN") and a.name not in violation.message("en")
        assert _refused(publicize, start=TODAY - timedelta(days=1))[0].code == (
            "evaluation.start_in_past"
        )
        assert db.session.scalar(select(func.count()).where(TermEvaluation.state != "draft")) == 0
        _grade_all(lc, klass, term, [c])
        assert publicize() == len(students)
        db.session.commit()
        row_a = service.term_evaluation(db.session, a.id, term.id)
        assert (row_a.state, row_a.publicity_start, row_a.publicity_end) == (
            "publicized",
            TODAY,
            END,
        )
        assert row_a.publicity_rounds == 1
        # Under publicity the grades are locked, and so are the records.
        locked = _refused(
            service.set_grades,
            db.session,
            teacher,
            klass,
            term,
            {a.id: {"moral": "B"}},
            username="teacher_s",
        )
        assert locked[0].code == "evaluation.for_student"
        assert "公示中" in locked[0].message("zh_CN")
        assert (
            _refused(
                service.add_record,
                db.session,
                teacher,
                a,
                term,
                dimension="moral",
                kind="activity",
                title="x",
                happened_on=TODAY,
                today=TODAY,
                username="teacher_s",
            )[0].code
            == "evaluation.records_locked"
        )

        # A parent of A objects; only inside the window.
        create_account(username="parent_a", password=PASSWORD, role="Parent")
        parent_id = lc.app.appbuilder.sm.find_user(username="parent_a").id
        db.session.add(ParentLink(user_id=parent_id, student_id=a.id))
        db.session.commit()
        parent = _scope(lc, "parent_a")

        def object_to(row, on, scope=parent, username="parent_a", reason="等级与实际表现不符"):
            return service.raise_objection(db.session, scope, row, reason, on=on, username=username)

        for day in (TODAY - timedelta(days=1), END + timedelta(days=3)):
            violation = _refused(object_to, row_a, day)[0]
            assert violation.code == "evaluation.objection_closed"
            assert "2026-11-30" in violation.message("en") and "2026-12-04" in violation.message(
                "en"
            )
        row_b = service.term_evaluation(db.session, b.id, term.id)
        # The parent of A may not object for B; the class teacher may.
        assert _refused(object_to, row_b, TODAY)[0].code == "evaluation.not_allowed"
        assert _refused(object_to, row_a, TODAY, reason=" ")[0].field == "objection"
        object_to(row_a, END)  # the last day counts
        object_to(row_b, TODAY + timedelta(days=1), scope=teacher, username="teacher_s")
        db.session.commit()
        assert (row_a.state, row_b.state) == ("objected", "objected")
        assert _count(EvaluationObjection) == 2
        # Deciding: not the teacher; the leader upholds A, the registrar dismisses B.
        assert (
            _refused(
                service.decide_objection,
                db.session,
                teacher,
                row_a,
                uphold=True,
                on=END,
                username="teacher_s",
            )[0].code
            == "evaluation.not_allowed"
        )
        service.decide_objection(
            db.session, _scope(lc, "lead_s"), row_a, uphold=True, on=END, username="lead_s"
        )
        service.decide_objection(
            db.session, _scope(lc, "reg_s"), row_b, uphold=False, on=END, username="reg_s"
        )
        db.session.commit()
        assert (row_a.state, row_b.state) == ("revised", "publicized")
        assert [o.outcome for o in row_a.objections] == ["upheld"]
        assert row_a.objections[0].resolved_by == "lead_s"
        # A is revised and publicized again: a full new period, the second round.
        service.set_grades(
            db.session, teacher, klass, term, {a.id: {"moral": "B"}}, username="teacher_s"
        )
        monday = END + timedelta(days=3)  # 2026-12-07
        assert publicize(start=monday, today=monday) == 1  # only A; the rest stay as they are
        db.session.commit()
        assert (row_a.state, row_a.publicity_rounds) == ("publicized", 2)
        assert row_a.publicity_end == date(2026, 12, 11)
        # Finalizing only after the period; before that the state stays publicized.
        assert (
            _refused(service.finalize, db.session, teacher, row_b, today=END, username="teacher_s")[
                0
            ].code
            == "evaluation.publicity_running"
        )
        assert service.effective_state(row_b, END) is EvalState.PUBLICIZED
        assert service.effective_state(row_b, monday) is EvalState.FINAL  # lapsed period
        service.finalize(db.session, _scope(lc, "reg_s"), row_b, today=monday, username="reg_s")
        db.session.commit()
        assert (row_b.state, row_b.finalized_on) == ("final", monday)
        done = service.finalize_class(
            db.session, teacher, klass, term, today=monday, username="teacher_s"
        )
        db.session.commit()
        assert done == len(students) - 2  # neither A (publicity running) nor B (already final)
        assert row_a.state == "publicized"
        report = service.student_report(db.session, a.id, term.id, monday)
        assert report.state == "publicized" and report.publicity_rounds == 2
        assert [d.grade for d in report.dimensions] == ["B", "A", "A", "A", "A"]
        assert service.student_report(db.session, a.id, term.id, date(2026, 12, 14)).state == (
            "final"
        )


def test_report_pdf(lc):
    with lc.app.app_context():
        klass, term, students = _setup(lc)
        student = students[0]
        service.set_grades(
            db.session,
            _scope(lc, "teacher_s"),
            klass,
            term,
            {student.id: {**ALL_A, "arts": "C"}},
            comments={student.id: "乐于助人，学习认真。"},
            username="teacher_s",
        )
        service.add_record(
            db.session,
            _scope(lc, "teacher_s"),
            student,
            term,
            dimension="practice",
            kind="practice",
            title="敬老院志愿服务",
            happened_on=TODAY,
            hours="4",
            today=TODAY,
            username="teacher_s",
        )
        db.session.commit()
        report = service.student_report(db.session, student.id, term.id, TODAY)
        body = service.render_report_pdf(report)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        for expected in (
            student.name,
            student.student_number,
            "综合素质评价报告",
            "思想品德",
            "学业水平",
            "身心健康",
            "艺术素养",
            "社会实践",
            "敬老院志愿服务",
            "乐于助人",
        ):
            assert expected in text, expected


def test_evaluation_screens(lc):
    with lc.app.app_context():
        klass, term, students = _setup(lc)
        class_id, term_id, ids = klass.id, term.id, [s.id for s in students]
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    teacher = lc.app.test_client()
    login(teacher, lc.cast.users["teacher_s"])
    page = teacher.get(f"/evaluation/?class={class_id}&term={term_id}&_l_=en")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "evaluation-grid" in body
    assert body.count('<select name="grade_') == 5 * len(ids)
    assert "evaluation-save" in body and "evaluation-publicize" in body

    def grid(bad: str = "A") -> dict[str, str]:
        data = {"class": str(class_id), "term": str(term_id)}
        for sid in ids:
            for code in service.DIMENSIONS:
                data[f"grade_{sid}_{code}"] = "A"
            data[f"comment_{sid}"] = ""
        data[f"grade_{ids[0]}_moral"] = bad
        return data

    refused = teacher.post("/evaluation/save?_l_=en", data=grid("E"), follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "is not a valid grade for" in text and "Moral character" in text
    with lc.app.app_context():
        assert _count(TermEvaluation) == 0 and _count(Evaluation) == 0
    saved = teacher.post("/evaluation/save", data=grid())
    assert saved.status_code == 302
    with lc.app.app_context():
        assert _count(Evaluation) == 5 * len(ids)
    # The student page: a bad record date shows the message and writes nothing.
    student_url = f"/evaluation/{ids[0]}/{term_id}"
    page = teacher.get(student_url + "?_l_=en")
    assert page.status_code == 200 and "evaluation-record-form" in page.get_data(as_text=True)
    bad_record = teacher.post(
        f"{student_url}/record?_l_=en",
        data={
            "dimension": "practice",
            "kind": "practice",
            "title": "社区服务",
            "happened_on": "2020-01-01",
            "hours": "2",
        },
        follow_redirects=True,
    )
    assert "is outside the term" in bad_record.get_data(as_text=True)
    good_record = teacher.post(
        f"{student_url}/record",
        data={
            "dimension": "practice",
            "kind": "practice",
            "title": "社区服务",
            "happened_on": TODAY.isoformat(),
            "hours": "2",
            "evidence": (io.BytesIO(_png()), "proof.png"),
        },
        content_type="multipart/form-data",
    )
    assert good_record.status_code == 302
    with lc.app.app_context():
        rows = db.session.scalars(select(EvaluationRecord)).all()
        assert [(r.title, r.evidence_file_id is not None) for r in rows] == [("社区服务", True)]
    pdf = teacher.get(f"{student_url}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    # Publicize from the screen; then the grid is read-only and shows the state.
    done = teacher.post(
        "/evaluation/publicize?_l_=en",
        data={"class": class_id, "term": term_id, "start": TODAY.isoformat()},
        follow_redirects=True,
    )
    assert "are now under publicity" in done.get_data(as_text=True)
    body = teacher.get(f"/evaluation/?class={class_id}&term={term_id}&_l_=en").get_data(
        as_text=True
    )
    assert "under publicity" in body and " disabled" in body
    # The class teacher objects on the student page (Chinese by default); the leader decides.
    page = teacher.get(student_url).get_data(as_text=True)
    assert "evaluation-object-form" in page and "公示中" in page
    assert "evaluation-record-form" not in page  # records are locked under publicity
    objected = teacher.post(f"{student_url}/objection", data={"reason": "评语有误"})
    assert objected.status_code == 302
    # The leader sees the class read-only; another school's registrar does not see it.
    leader = lc.app.test_client()
    login(leader, lc.cast.users["lead_s"])
    body = leader.get(f"/evaluation/?class={class_id}&term={term_id}").get_data(as_text=True)
    assert "evaluation-grid" in body and "evaluation-save" not in body
    page = leader.get(student_url + "?_l_=en").get_data(as_text=True)
    assert "evaluation-decide-form" in page and "评语有误" in page
    leader.post(f"{student_url}/decide", data={"outcome": "dismiss"})
    with lc.app.app_context():
        row = service.term_evaluation(db.session, ids[0], term_id)
        assert row.state == "publicized" and row.objections[0].outcome == "dismissed"
    other = lc.app.test_client()
    login(other, lc.cast.users["reg_r"])
    body = other.get(f"/evaluation/?class={class_id}&term={term_id}").get_data(as_text=True)
    assert "evaluation-grid" not in body
    assert other.get(student_url).status_code == 404
    assert other.get(f"{student_url}/pdf").status_code == 404
