"""考试与成绩: setting up an exam under the 2021 rules, the score grid (refusals write nothing,
codes, blanks), ranks and statistics against a hand count in both tie modes, the Excel import
(all or nothing, errors by row and column), publication locking with audited corrections,
who may enter what, the class analysis PDF, what a parent sees, and the screens."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from admin.domain import ranking
from admin.domain.messages import EN, RuleError
from admin.extensions import db
from admin.models import AuditLog, Exam, School, SchoolClass, Score, TeachingAssignment, Term
from admin.security.scope import scope_for_user
from admin.services import exams as service
from admin.services.accounts import create_account
from admin.services.attendance import class_students
from admin.services.importing import ImportRejected
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import login

COMPULSORY_GRADES = ("14", "15", "13", "21", "22")


@dataclass
class Setup:
    school: int
    term: int
    grade: str
    class_a: int
    class_b: int
    users: dict[str, int]


def _setup(lc) -> Setup:
    """A compulsory-education grade with two classes of students; a registrar, a maths
    teacher of class A and a teacher of nothing there."""
    s = db.session
    term = s.scalars(select(Term).where(Term.start_date <= TODAY, Term.end_date >= TODAY)).first()
    found = None
    for grade in COMPULSORY_GRADES:
        rows = s.execute(
            select(SchoolClass.school_id, func.count(SchoolClass.id))
            .where(
                SchoolClass.grade_code == grade,
                SchoolClass.school_year_id == term.school_year_id,
            )
            .group_by(SchoolClass.school_id)
            .having(func.count(SchoolClass.id) >= 2)
            .order_by(SchoolClass.school_id)
        ).all()
        for school_id, _ in rows:
            classes = s.scalars(
                select(SchoolClass)
                .where(
                    SchoolClass.school_id == school_id,
                    SchoolClass.grade_code == grade,
                    SchoolClass.school_year_id == term.school_year_id,
                )
                .order_by(SchoolClass.number)
            ).all()
            full = [c for c in classes if len(class_students(s, c)) >= 4]
            if len(full) >= 2:
                found = (s.get(School, school_id), grade, full[0], full[1])
                break
        if found:
            break
    assert found, "the seed has no compulsory grade with two classes"
    school, grade, a, b = found
    for username, role in (
        ("reg_x", "SchoolRegistrar"),
        ("teacher_x", "Teacher"),
        ("teacher_y", "Teacher"),
    ):
        create_account(username=username, password=PASSWORD, role=role, school=school.code)
    sm = lc.app.appbuilder.sm
    users = {u: sm.find_user(username=u).id for u in ("reg_x", "teacher_x", "teacher_y", "admin")}
    s.add(TeachingAssignment(user_id=users["teacher_x"], class_id=a.id, subject_code="math"))
    s.add(TeachingAssignment(user_id=users["teacher_y"], class_id=b.id, subject_code="math"))
    s.commit()
    return Setup(school.id, term.id, grade, a.id, b.id, users)


def _scope(lc, username):
    return scope_for_user(db.session, lc.app.appbuilder.sm.find_user(username=username))


def _exam(lc, w: Setup, **kw) -> Exam:
    term = db.session.get(Term, w.term)
    args = {
        "school": db.session.get(School, w.school),
        "term": term,
        "grade_code": w.grade,
        "name": "期末考试",
        "kind": "final",
        "exam_date": term.start_date + timedelta(days=60),
        "subjects": [("math", 100), ("chinese", 120, 72, 102)],
        "username": "reg_x",
    }
    args.update(kw)
    exam = service.create_exam(db.session, _scope(lc, "reg_x"), **args)
    db.session.commit()
    return exam


def _scores() -> int:
    return db.session.scalar(select(func.count()).select_from(Score))


def _codes(exc: pytest.ExceptionInfo) -> set[str]:
    return {v.code for v in exc.value.violations}


def test_create_exam_refusals(lc):
    with lc.app.app_context():
        w = _setup(lc)
        term = db.session.get(Term, w.term)
        refusals = [
            ({"exam_date": term.end_date + timedelta(days=1)}, "exam.date_outside_term"),
            ({"kind": "monthly"}, "exam.type_not_allowed"),  # 月考 in 义务教育
            ({"kind": "quiz"}, "exam.type_not_allowed"),
            ({"subjects": [("tech", 100)]}, "exam.subject_not_in_stage"),  # 通用技术: 高中 only
            ({"subjects": [("math", 100, 110)]}, "exam.lines"),  # pass line above full marks
            ({"subjects": [("math", 0)]}, "exam.full_mark"),
            ({"kind": "weekly"}, "code.unknown"),
        ]
        for change, code in refusals:
            with pytest.raises(RuleError) as refused:
                _exam(lc, w, **change)
            db.session.rollback()
            assert code in _codes(refused), (change, _codes(refused))
        # The message names the field and the term's dates.
        with pytest.raises(RuleError) as refused:
            _exam(lc, w, exam_date=date(2027, 3, 1))
        db.session.rollback()
        message = refused.value.violations[0].message()
        assert message.startswith("考试日期") and term.start_date.isoformat() in message
        # Several problems at once, and nothing written.
        with pytest.raises(RuleError) as refused:
            _exam(lc, w, kind="monthly", subjects=[("tech", 100), ("math", 100, 90, 80)])
        db.session.rollback()
        assert {"exam.type_not_allowed", "exam.subject_not_in_stage", "exam.lines"} <= _codes(
            refused
        )
        assert db.session.scalar(select(func.count()).select_from(Exam)) == 0
        # A teacher does not set up exams.
        with pytest.raises(RuleError) as refused:
            service.create_exam(
                db.session,
                _scope(lc, "teacher_x"),
                school=db.session.get(School, w.school),
                term=term,
                grade_code=w.grade,
                name="x",
                kind="final",
                exam_date=term.start_date,
                subjects=[("math", 100)],
                username="teacher_x",
            )
        assert _codes(refused) == {"exam.not_allowed"}
        db.session.rollback()
        exam = _exam(lc, w)
        assert {c.class_id for c in exam.classes} >= {w.class_a, w.class_b}
        chinese = service.paper_of(exam, "chinese")
        math = service.paper_of(exam, "math")
        assert (chinese.pass_line, chinese.excellent_line) == (72, 102)
        assert (math.pass_line, math.excellent_line) == (60, 85)  # 60 % / 85 % by default


def test_score_entry_grid(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        klass = db.session.get(SchoolClass, w.class_a)
        teacher = _scope(lc, "teacher_x")
        rows = service.grid(db.session, exam, klass, "math")
        ids = [r.student.id for r in rows]
        assert len(ids) >= 4 and all(r.text == "" for r in rows)

        def save(cells, who="teacher_x", subject="math", **kw):
            return service.save_scores(
                db.session, _scope(lc, who), exam, klass, subject, cells, who, **kw
            )

        # Above full marks: refused, the student and the field named, nothing written —
        # not even the good cell next to it.
        with pytest.raises(service.ScoresRefused) as refused:
            save({ids[0]: "101", ids[1]: "95", ids[2]: "9x"})
        db.session.rollback()
        assert set(refused.value.cells) == {ids[0], ids[2]}
        bad = refused.value.cells[ids[0]][0]
        assert rows[0].student.name in bad.message() and bad.message().startswith("成绩")
        assert "0到100" in bad.message() and bad.params["rule"] == "score.range"
        assert refused.value.cells[ids[2]][0].params["rule"] == "score.format"
        assert _scores() == 0
        # Numbers, decimals, codes in Chinese and English, blank = not entered.
        done = save({ids[0]: "95", ids[1]: "缺考", ids[2]: "absent", ids[3]: "88.50"})
        db.session.commit()
        assert (done.saved, done.deleted) == (4, 0)
        stored = {r.student_id: r for r in db.session.scalars(select(Score))}
        assert stored[ids[0]].score == Decimal("95") and stored[ids[0]].absent is False
        assert stored[ids[1]].code == "absent" and stored[ids[1]].absent is True
        assert stored[ids[2]].code == "absent" and stored[ids[3]].score == Decimal("88.5")
        assert stored[ids[0]].level is None  # bands only in grades 1–2
        # The grid shows them back; saving again replaces: blank clears, a code becomes a score.
        shown = {r.student.id: r.text for r in service.grid(db.session, exam, klass, "math")}
        assert shown[ids[1]] == "缺考" and shown[ids[3]] == "88.5"
        done = save({ids[0]: "", ids[1]: "90", ids[2]: "免考", ids[3]: "88.5"})
        db.session.commit()
        assert (done.saved, done.deleted, done.unchanged) == (2, 1, 1)
        now = service.class_results(db.session, exam, klass.id, "math")
        assert now == {
            ids[1]: Decimal(90),
            ids[2]: ranking.ScoreCode.EXEMPT,
            ids[3]: Decimal("88.5"),
        }
        # Who may enter: the maths teacher of class A, not its Chinese; the other teacher not
        # at all; the registrar any paper.
        for who, subject in (("teacher_x", "chinese"), ("teacher_y", "math")):
            with pytest.raises(service.ScoresRefused) as refused:
                save({ids[0]: "50"}, who=who, subject=subject)
            db.session.rollback()
            assert _codes(refused) == {"score.not_your_paper"}
        save({ids[0]: "100"}, who="reg_x", subject="chinese")
        db.session.commit()
        assert teacher.role == "Teacher"
        # A student of another class is refused.
        other = class_students(db.session, db.session.get(SchoolClass, w.class_b))[0]
        with pytest.raises(service.ScoresRefused) as refused:
            save({other.id: "50"})
        db.session.rollback()
        assert _codes(refused) == {"score.not_in_class"}


def _enter(lc, exam, klass_id, subject, cells):
    klass = db.session.get(SchoolClass, klass_id)
    service.save_scores(db.session, _scope(lc, "reg_x"), exam, klass, subject, cells, "reg_x")
    db.session.commit()


def test_totals_ranks_and_statistics_by_hand(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        a = [s.id for s in class_students(db.session, db.session.get(SchoolClass, w.class_a))]
        b = [s.id for s in class_students(db.session, db.session.get(SchoolClass, w.class_b))]
        s1, s2, s3, s4 = a[:4]
        t1, t2 = b[:2]
        math = {s1: "90", s2: "100", s3: "80", s4: "缺考"}
        chinese = {s1: "100", s2: "90", s3: "80", s4: "100"}
        _enter(lc, exam, w.class_a, "math", math)
        _enter(lc, exam, w.class_a, "chinese", chinese)
        _enter(lc, exam, w.class_b, "math", {t1: "95", t2: "60"})
        _enter(lc, exam, w.class_b, "chinese", {t1: "100", t2: "70"})
        # Totals: t1 195, s1 190, s2 190, s3 160, t2 130; s4 (缺考 left out) is incomplete.
        done = service.results(db.session, exam, mode="competition")
        by = {r.student_id: r for r in done.students}
        assert [by[x].total.total for x in (t1, s1, s2, s3, t2)] == [195, 190, 190, 160, 130]
        assert by[s4].total.total == 100 and by[s4].grade_rank is None
        assert [by[x].grade_rank for x in (t1, s1, s2, s3, t2)] == [1, 2, 2, 4, 5]
        assert [by[x].class_rank for x in (s1, s2, s3, t1, t2)] == [1, 1, 3, 1, 2]
        # Students with nothing entered get no rank; the ranked come first.
        assert [r.student_id for r in done.students[:5]] in (
            [t1, s1, s2, s3, t2],
            [t1, s2, s1, s3, t2],
        )
        dense = {r.student_id: r for r in service.results(db.session, exam, mode="dense").students}
        assert [dense[x].grade_rank for x in (t1, s1, s2, s3, t2)] == [1, 2, 2, 3, 4]
        assert [dense[x].class_rank for x in (s1, s2, s3)] == [1, 1, 2]
        # 缺考 counted as 0: s4 has 100 and ranks after t2.
        zero = ranking.ScorePolicy(absent="zero")
        zeroed = {r.student_id: r for r in service.results(db.session, exam, zero).students}
        assert zeroed[s4].total.total == 100 and zeroed[s4].grade_rank == 6
        # Statistics: class A maths 90, 100, 80 (缺考 left out): mean 90, σ = √(200/3),
        # pass 3/3, excellent (≥ 85) 2/3; the grade adds 95 and 60: mean 85.
        stats = done.class_stats[w.class_a]["math"]
        assert (stats.counted, stats.absent, stats.mean) == (3, 1, 90)
        assert ranking.round_half_up(stats.stdev, 4) == Decimal("8.1650")
        assert (stats.maximum, stats.minimum) == (100, 80)
        assert stats.pass_rate == 1 and stats.excellent_rate == Decimal(2) / Decimal(3)
        grade = done.grade_stats["math"]
        assert grade.mean == 85 and grade.counted == 5 and grade.pass_count == 5
        assert sum(b.count for b in grade.distribution) == 5
        # Chinese lines are 72 / 102 of 120: t1's 100 passes but is not excellent, t2's 70 fails.
        chinese_b = done.class_stats[w.class_b]["chinese"]
        assert (chinese_b.pass_count, chinese_b.excellent_count) == (1, 0)


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).worksheets[0]


def test_score_import_all_or_nothing(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        reg = _scope(lc, "reg_x")
        template = service.template_workbook(db.session, exam)
        sheet = load_workbook(io.BytesIO(template))
        ws = sheet.worksheets[0]
        header = [c.value for c in ws[1]]
        assert header[:3] == ["学籍号", "姓名", "班级"] and header[3:] == ["数学", "语文"]
        rows = ws.max_row - 1
        assert rows >= 8
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=4, value=60 + r % 40)
            ws.cell(row=r, column=5, value="缺考" if r == 3 else 100)
        ws.cell(row=5, column=5, value=121)  # above Chinese's 120
        ws.cell(row=6, column=1, value="G000000000000000000")  # not in the exam's classes
        out = io.BytesIO()
        sheet.save(out)
        data = out.getvalue()
        before = _scores()
        checked = service.import_scores(db.session, reg, exam, data, dry_run=True, username="reg_x")
        places = {(p.row, p.column, p.header) for p in checked.report.problems}
        assert places == {(5, 5, "语文"), (6, 1, "学籍号")}
        lines = checked.report.lines()
        assert any(line.startswith("row 5, 语文") for line in lines)
        with pytest.raises(ImportRejected):
            service.import_scores(db.session, reg, exam, data, dry_run=False, username="reg_x")
        db.session.rollback()
        assert _scores() == before == 0
        # The marked file: the bad cells red with their message.
        marked = _sheet(service.error_workbook(checked.report, data))
        assert marked.cell(row=5, column=5).fill.fgColor.rgb.endswith("FFC7CE")
        assert "120" in marked.cell(row=5, column=5).comment.text
        assert marked.cell(row=1, column=6).value == "错误说明"
        # Fixed, it goes in whole.
        ws.cell(row=5, column=5, value=120)
        ws.delete_rows(6)
        out = io.BytesIO()
        sheet.save(out)
        done = service.import_scores(
            db.session, reg, exam, out.getvalue(), dry_run=False, username="reg_x"
        )
        db.session.commit()
        assert done.report.ok and done.saved == (rows - 1) * 2 == _scores()
        absent = db.session.scalars(select(Score).where(Score.absent.is_(True))).all()
        assert len(absent) == 1 and absent[0].subject_code == "chinese"
        # A teacher may import only their own class and paper.
        refused = service.import_scores(
            db.session, _scope(lc, "teacher_x"), exam, out.getvalue(), dry_run=True,
            username="teacher_x",
        )  # fmt: skip
        assert {p.violation.code for p in refused.report.problems} == {"score.not_your_paper"}
        db.session.rollback()


def test_publish_locks_and_corrections_are_audited(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        klass = db.session.get(SchoolClass, w.class_a)
        ids = [s.id for s in class_students(db.session, klass)]
        _enter(lc, exam, w.class_a, "math", {ids[0]: "70", ids[1]: "80"})
        with pytest.raises(RuleError) as refused:
            service.publish(db.session, _scope(lc, "teacher_x"), exam, "teacher_x")
        assert _codes(refused) == {"exam.not_publisher"}
        db.session.rollback()
        done = service.publish(db.session, _scope(lc, "reg_x"), exam, "reg_x")
        db.session.commit()
        assert exam.state == "published" and exam.published_by == "reg_x"
        assert done.missing == service.missing_cells(db.session, exam) > 0
        with pytest.raises(RuleError) as refused:
            service.publish(db.session, _scope(lc, "reg_x"), exam, "reg_x")
        assert _codes(refused) == {"exam.already_published"}
        db.session.rollback()

        def save(who, **kw):
            return service.save_scores(
                db.session, _scope(lc, who), exam, klass, "math", {ids[0]: "75"}, who, **kw
            )

        with pytest.raises(service.ScoresRefused) as refused:
            save("teacher_x", reason="阅卷错误")
        assert _codes(refused) == {"score.published_locked"}
        db.session.rollback()
        with pytest.raises(service.ScoresRefused) as refused:
            save("reg_x")
        assert _codes(refused) == {"score.reason_required"}
        db.session.rollback()
        assert service.class_results(db.session, exam, klass.id, "math")[ids[0]] == 70
        save("reg_x", reason="复核发现加分错误")
        db.session.commit()
        assert service.class_results(db.session, exam, klass.id, "math")[ids[0]] == 75
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "score").order_by(AuditLog.id.desc())
        ).first()
        assert entry.reason == "复核发现加分错误"


def test_class_analysis_pdf(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        klass = db.session.get(SchoolClass, w.class_a)
        ids = [s.id for s in class_students(db.session, klass)]
        _enter(lc, exam, w.class_a, "math", {ids[0]: "70", ids[1]: "缺考", ids[2]: "99"})
        body = service.class_analysis_pdf(db.session, exam, klass)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        assert klass.name in text and "数学" in text and "语文" in text
        assert "成绩分析" in text and "缺考" in text and "及格率" in text
        english = service.class_analysis_pdf(db.session, exam, klass, locale=EN)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(english)).pages)
        assert "Mathematics" in text and "competition" in text


def test_parent_view_of_results(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w)
        draft = _exam(lc, w, name="未发布的考试")
        klass = db.session.get(SchoolClass, w.class_a)
        students = class_students(db.session, klass)
        child, others = students[0], students[1:4]
        _enter(
            lc, exam, w.class_a, "math", {child.id: "90", others[0].id: "70", others[1].id: "80"}
        )
        _enter(
            lc,
            exam,
            w.class_a,
            "chinese",
            {child.id: "100", others[0].id: "90", others[1].id: "90"},
        )
        _enter(lc, draft, w.class_a, "math", {child.id: "10"})
        assert service.student_results(db.session, child.id) == []  # nothing published yet
        service.publish(db.session, _scope(lc, "reg_x"), exam, "reg_x")
        db.session.commit()
        (seen,) = service.student_results(db.session, child.id)
        assert seen.exam_id == exam.id  # the draft stays hidden
        math = next(s for s in seen.subjects if s.subject_code == "math")
        assert math.score == "90" and math.band == "A" and math.class_average == 80
        assert (seen.class_rank, seen.grade_rank) == (None, None)  # 义务教育: not ranked
        flat = repr(seen)
        assert all(o.name not in flat and o.student_number not in flat for o in others)
        ranked = service.student_results(
            db.session, child.id, visibility=ranking.ParentVisibility(compulsory_ranks=True)
        )[0]
        assert (ranked.class_rank, ranked.total) == (1, 190)
        hidden = service.student_results(
            db.session, child.id, visibility=ranking.ParentVisibility(compulsory_scores=False)
        )[0]
        math = next(s for s in hidden.subjects if s.subject_code == "math")
        assert math.score is None and math.band == "A" and hidden.total is None


def test_exam_screens(lc):
    with lc.app.app_context():
        w = _setup(lc)
        term = db.session.get(Term, w.term)
        klass = db.session.get(SchoolClass, w.class_a)
        ids = [s.id for s in class_students(db.session, klass)]
        day = (term.start_date + timedelta(days=60)).isoformat()
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    registrar = lc.app.test_client()
    login(registrar, w.users["reg_x"])
    page = registrar.get("/exam/?_l_=en")
    assert page.status_code == 200 and "exam-create" in page.get_data(as_text=True)
    form = {
        "school": w.school,
        "term": w.term,
        "grade": w.grade,
        "kind": "final",
        "exam_date": day,
        "name": "期末考试",
        "subject": ["math", "chinese"],
        "full_math": "100",
        "full_chinese": "120",
    }
    refused = registrar.post("/exam/create", data={**form, "kind": "monthly", "name": "三月月考"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "三月月考" in body  # the input is kept
    created = registrar.post("/exam/create", data=form)
    assert created.status_code == 302
    with lc.app.app_context():
        exam_id = db.session.scalar(select(Exam.id))
    listing = registrar.get("/exam/").get_data(as_text=True)
    assert "期末考试" in listing
    show = registrar.get(f"/exam/{exam_id}").get_data(as_text=True)
    assert "exam-publish" in show
    # The maths teacher's grid: a bad cell is refused on the page, the typing kept.
    teacher = lc.app.test_client()
    login(teacher, w.users["teacher_x"])
    url = f"/exam/{exam_id}/scores?class={w.class_a}&subject=math"
    grid = teacher.get(url + "&_l_=en")
    assert grid.status_code == 200
    assert grid.get_data(as_text=True).count('class="form-control input-sm score-cell"') == len(ids)
    post = {
        "class": w.class_a,
        "subject": "math",
        f"score_{ids[0]}": "150",
        f"score_{ids[1]}": "77",
    }
    refusal = teacher.post(f"/exam/{exam_id}/scores", data=post)
    body = refusal.get_data(as_text=True)
    assert refusal.status_code == 400 and "score-refusals" in body
    assert 'value="150"' in body and 'value="77"' in body
    with lc.app.app_context():
        assert _scores() == 0
    saved = teacher.post(f"/exam/{exam_id}/scores", data={**post, f"score_{ids[0]}": "99"})
    assert saved.status_code == 302
    with lc.app.app_context():
        assert _scores() == 2
    # Not the Chinese paper; another school's registrar sees no such exam.
    refusal = teacher.post(f"/exam/{exam_id}/scores", data={**post, "subject": "chinese"})
    assert refusal.status_code == 400
    other = lc.app.test_client()
    outsider = "reg_r" if w.school != lc.cast.receiving else "reg_s"
    login(other, lc.cast.users[outsider])
    assert other.get(f"/exam/{exam_id}").status_code == 404
    results = registrar.get(f"/exam/{exam_id}/results?_l_=en").get_data(as_text=True)
    assert "results-ranks" in results and "1, 2, 2, 4" in results
    pdf = teacher.get(f"/exam/{exam_id}/pdf/{w.class_a}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    template = registrar.get(f"/exam/{exam_id}/import/template")
    assert template.status_code == 200 and _sheet(template.data).cell(1, 1).value == "学籍号"
