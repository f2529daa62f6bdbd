"""课程表 and 任课安排: the registrar fills a class's week; a teacher or room already taken by
another class at that slot, a subject the stage does not teach or a teacher of another school
is refused with the clash named and nothing written; teachers read their own week; teachers
are assigned to classes and subjects (one 班主任, one teacher per subject)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin.domain.catalogs.academics import SUBJECTS_BY_STAGE
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import AuditLog, SchoolClass, Student, TeachingAssignment, Term, TimetableSlot
from admin.security.scope import scope_for_user
from admin.services import timetable as service
from admin.services.accounts import create_account
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import login
from tests.security.conftest import english

OTHER_CLASS = "测试(99)班"


class Setup:
    def __init__(self, lc) -> None:
        from admin.models import School

        self.lc = lc
        student = db.session.get(Student, lc.cast.student)
        self.klass = db.session.get(SchoolClass, student.current_class_id)
        self.other = db.session.get(SchoolClass, lc.cast.other_class)
        self.term = service.current_term(db.session, self.klass.school_year, TODAY)
        sending = db.session.get(School, lc.cast.sending).code
        receiving = db.session.get(School, lc.cast.receiving).code
        for username, school in (("t_a", sending), ("t_b", sending), ("t_far", receiving)):
            create_account(username=username, password=PASSWORD, role="Teacher", school=school)
        sm = lc.app.appbuilder.sm
        self.t_a, self.t_b, self.t_far = (
            sm.find_user(username=u).id for u in ("t_a", "t_b", "t_far")
        )
        stage = service.class_stage(self.klass)
        everything = {s for subjects in SUBJECTS_BY_STAGE.values() for s in subjects}
        self.not_taught = sorted(everything - set(SUBJECTS_BY_STAGE[stage]))[0]

    def scope(self, username: str):
        return scope_for_user(db.session, self.lc.app.appbuilder.sm.find_user(username=username))

    def save(self, klass, cells, username="reg_s"):
        return service.save_class_week(
            db.session,
            self.scope(username),
            klass,
            self.term,
            cells,
            username,
            settings=service.settings_from_config(self.lc.app.config),
        )

    def slots(self, klass) -> dict[tuple[int, int], tuple]:
        return {
            (s.weekday, s.period): (s.subject_code, s.teacher_id, s.room, s.combined)
            for s in db.session.scalars(
                select(TimetableSlot).where(
                    TimetableSlot.class_id == klass.id, TimetableSlot.term_id == self.term.id
                )
            )
        }


def cell(weekday, period, subject, teacher=None, room=None, combined=None):
    return service.Cell(weekday, period, subject, teacher, room, combined)


def refused(call) -> list:
    with pytest.raises(RuleError) as caught:
        call()
    db.session.rollback()
    return caught.value.violations


def test_current_term():
    class Year:
        terms = [
            Term(number=1, start_date=TODAY.replace(month=9, day=1), end_date=TODAY.replace(year=2027, month=1, day=20)),
            Term(number=2, start_date=TODAY.replace(year=2027, month=2, day=20), end_date=TODAY.replace(year=2027, month=7, day=10)),
        ]  # fmt: skip

    year = Year()
    assert service.current_term(None, year, TODAY).number == 1  # type: ignore[arg-type]
    winter = TODAY.replace(year=2027, month=2, day=1)
    assert service.current_term(None, year, winter).number == 2  # type: ignore[arg-type]
    summer = TODAY.replace(year=2027, month=8, day=1)
    assert service.current_term(None, year, summer).number == 2  # type: ignore[arg-type]


def test_clashes_are_refused_naming_the_other_class(lc):
    with lc.app.app_context():
        w = Setup(lc)
        w.save(w.other, [cell(1, 1, "chinese", w.t_a, "101"), cell(2, 1, "pe", w.t_b, "操场")])
        db.session.commit()
        assert len(w.slots(w.other)) == 2

        # t_a already teaches the other class on Monday, period 1
        problems = refused(lambda: w.save(w.klass, [cell(1, 1, "math", w.t_a, "102")]))
        assert [p.code for p in problems] == ["timetable.teacher_booked"]
        text = problems[0].message("en")
        assert OTHER_CLASS in text and "Monday, period 1" in text and "t_a" in text
        assert OTHER_CLASS in problems[0].message("zh_CN") and "星期一第1节" in problems[0].message(
            "zh_CN"
        )
        # room 101 is booked for the other class; the good cell is not written either
        problems = refused(
            lambda: w.save(
                w.klass, [cell(1, 1, "math", w.t_b, "101"), cell(1, 2, "math", w.t_b, "102")]
            )
        )
        assert [p.code for p in problems] == ["timetable.room_booked"]
        assert OTHER_CLASS in problems[0].message("en") and "101" in problems[0].message("en")
        assert w.slots(w.klass) == {}

        # the playground hosts several classes; a combined lesson (合班) shares teacher and room
        w.save(
            w.other, [cell(1, 1, "chinese", w.t_a, "101", "H1"), cell(2, 1, "pe", w.t_b, "操场")]
        )
        w.save(w.klass, [cell(2, 1, "pe", None, "操场"), cell(1, 1, "chinese", w.t_a, "101", "H1")])
        db.session.commit()
        assert w.slots(w.klass) == {
            (2, 1): ("pe", None, "操场", None),
            (1, 1): ("chinese", w.t_a, "101", "H1"),
        }


def test_cells_the_school_cannot_hold(lc):
    with lc.app.app_context():
        w = Setup(lc)
        cases = [
            (cell(1, 1, w.not_taught, w.t_a), "timetable.subject_not_taught"),
            (cell(1, 1, "math", w.t_far), "timetable.teacher_other_school"),
            (cell(1, 1, "math", 987654), "timetable.teacher_unknown"),
            (cell(1, 1, "math", lc.cast.users["reg_s"]), "timetable.teacher_unknown"),
            (cell(1, 1, None, w.t_a, "101"), "timetable.subject_missing"),
            (cell(1, 1, "alchemy"), "code.unknown"),
            (cell(6, 1, "math"), "timetable.no_such_slot"),  # Saturday is off by default
            (cell(1, 9, "math"), "timetable.no_such_slot"),  # 8 periods by default
        ]
        for bad, code in cases:
            problems = refused(lambda bad=bad: w.save(w.klass, [cell(2, 2, "math", w.t_b), bad]))
            assert [p.code for p in problems] == [code], bad
        text = refused(lambda: w.save(w.klass, [cases[0][0]]))[0].message("en")
        assert "Monday, period 1" in text and "is not taught in" in text
        assert "t_far" in refused(lambda: w.save(w.klass, [cases[1][0]]))[0].message("en")
        problems = refused(lambda: w.save(w.klass, [cell(1, 1, "math"), cell(1, 1, "chinese")]))
        assert [p.code for p in problems] == ["timetable.slot_twice"]
        assert w.slots(w.klass) == {}
        assert db.session.scalar(select(func.count()).select_from(TimetableSlot)) == 0


def test_save_replaces_the_week_and_teacher_week(lc):
    with lc.app.app_context():
        w = Setup(lc)
        first = w.save(
            w.klass,
            [cell(1, 1, "chinese", w.t_a, "201"), cell(1, 2, "math", w.t_b), cell(3, 4, "pe")],
        )
        db.session.commit()
        assert (first.added, first.changed, first.removed) == (3, 0, 0)
        again = w.save(
            w.klass,
            [
                cell(1, 1, "chinese", w.t_a, "201"),
                cell(1, 2, "math", w.t_a, "202"),
                cell(5, 8, "art"),
            ],
        )
        db.session.commit()
        assert (again.added, again.changed, again.removed) == (1, 1, 1)
        assert w.slots(w.klass) == {
            (1, 1): ("chinese", w.t_a, "201", None),
            (1, 2): ("math", w.t_a, "202", None),
            (5, 8): ("art", None, None, None),
        }
        grid = service.class_week(db.session, w.klass.id, w.term.id)
        assert grid.weekdays == (1, 2, 3, 4, 5) and grid.periods == 8
        assert [(x.subject_zh, x.teacher) for x in grid.at(1, 2)] == [("数学", "t_a")]
        mine = service.teacher_week(db.session, w.t_a, w.term.id)
        assert mine.count == 2
        assert [(x.class_name, x.subject_en, x.room) for x in mine.at(1, 1)] == [
            (w.klass.name, "Chinese", "201")
        ]
        assert service.teacher_week(db.session, w.t_b, w.term.id).count == 0
        logged = db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.table_name == "timetable_slot")
        )
        assert logged == 3 + 1 + 1 + 1  # 3 added; then 1 added, 1 changed, 1 removed
        # clearing the week
        assert w.save(w.klass, []).removed == 3
        db.session.commit()
        assert w.slots(w.klass) == {}


def test_only_the_schools_registrar_edits(lc):
    with lc.app.app_context():
        w = Setup(lc)
        for username in ("teacher_s", "lead_s", "reg_r", "county_s"):
            problems = refused(lambda u=username: w.save(w.klass, [cell(1, 1, "math")], u))
            assert [p.code for p in problems] == ["timetable.not_registrar"], username
        w.save(w.klass, [cell(1, 1, "math")], "admin")
        db.session.commit()
        assert w.slots(w.klass) == {(1, 1): ("math", None, None, None)}


def test_timetable_screens(lc):
    with lc.app.app_context():
        w = Setup(lc)
        w.save(w.other, [cell(1, 1, "chinese", w.t_a, "101")])
        db.session.add(TeachingAssignment(user_id=lc.cast.users["teacher_s"], class_id=w.klass.id))
        db.session.commit()
        class_id, term_id, t_a, t_b = w.klass.id, w.term.id, w.t_a, w.t_b
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    registrar = lc.app.test_client()
    login(registrar, lc.cast.users["reg_s"])
    page = registrar.get(f"/timetable/?class={class_id}&term={term_id}&_l_=en")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count('name="s_') == 5 * 8
    assert 'id="timetable-save"' in body

    form = {"class": class_id, "term": term_id, "s_1_1": "math", "t_1_1": t_a, "r_1_1": "303"}
    clash = registrar.post("/timetable/save?_l_=en", data={**form, "s_2_3": "chinese"})
    body = clash.get_data(as_text=True)
    assert clash.status_code == 422
    assert "t_a already teaches" in body and OTHER_CLASS in body and "Monday, period 1" in body
    assert 'value="303"' in body  # the grid comes back as typed
    assert '<option value="chinese" selected>' in body
    with lc.app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(TimetableSlot)
                .where(TimetableSlot.class_id == class_id)
            )
            == 0
        )

    saved = registrar.post("/timetable/save", data={**form, "t_1_1": t_b, "s_2_3": "chinese"})
    assert saved.status_code == 302
    with lc.app.app_context():
        grid = service.class_week(db.session, class_id, term_id)
        assert [x.subject_code for x in grid.at(1, 1) + grid.at(2, 3)] == ["math", "chinese"]

    # the class's teacher reads it; saving is not theirs
    teacher = lc.app.test_client()
    login(teacher, lc.cast.users["teacher_s"])
    read = teacher.get(f"/timetable/?class={class_id}&term={term_id}&_l_=en")
    body = read.get_data(as_text=True)
    assert read.status_code == 200 and "Mathematics" in body and 'name="s_' not in body
    denied = teacher.post("/timetable/save", data={"class": class_id, "term": term_id})
    assert denied.status_code != 200
    with lc.app.app_context():
        assert len(service.class_week(db.session, class_id, term_id).lessons) == 2

    # a registrar of another school does not see the class
    far = lc.app.test_client()
    login(far, lc.cast.users["reg_r"])
    assert far.get(f"/timetable/?class={class_id}&term={term_id}").status_code == 404
    assert far.post("/timetable/save", data={**form, "t_1_1": ""}).status_code == 404

    # t_b's own week
    mine = lc.app.test_client()
    login(mine, t_b)
    body = mine.get(f"/timetable/mine?term={term_id}&_l_=en").get_data(as_text=True)
    assert "timetable-mine" in body and "Mathematics" in body and "303" in body
    assert registrar.get("/help/timetable?_l_=en").status_code == 200


def test_teaching_assignments(lc):
    with lc.app.app_context():
        w = Setup(lc)
        reg = w.scope("reg_s")

        def assign(subject, teacher, scope=reg, klass=None, whole_year=True):
            return service.assign(
                db.session, scope, klass or w.klass, subject, teacher, w.term, whole_year=whole_year
            )

        assign(None, w.t_a)
        assign("math", w.t_a, whole_year=False)
        db.session.commit()
        refusals = [
            (lambda: assign(w.not_taught, w.t_b), "teaching.subject_not_taught"),
            (lambda: assign("chinese", w.t_far), "teaching.teacher_other_school"),
            (lambda: assign("chinese", lc.cast.users["reg_s"]), "teaching.teacher_unknown"),
            (lambda: assign("math", w.t_a), "teaching.duplicate"),
            (lambda: assign("math", w.t_b), "teaching.taken"),
            (lambda: assign(None, w.t_b), "teaching.taken"),  # one 班主任 per class
            (lambda: assign("chinese", w.t_b, scope=w.scope("lead_s")), "teaching.not_registrar"),
            (lambda: assign("chinese", w.t_b, scope=w.scope("reg_r")), "teaching.not_registrar"),
        ]
        for call, code in refusals:
            assert [p.code for p in refused(call)] == [code]
        taken = refused(lambda: assign(None, w.t_b))[0].message("zh_CN")
        assert "班主任" in taken and "t_a" in taken
        assert db.session.scalar(select(func.count()).select_from(TeachingAssignment).where(
            TeachingAssignment.class_id == w.klass.id
        )) == 2  # fmt: skip

        rows = service.list_assignments(db.session, reg, w.term, w.klass.school_id)
        mine = [(r.subject_code, r.teacher, r.whole_year) for r in rows if r.class_id == w.klass.id]
        assert mine == [(None, "t_a", True), ("math", "t_a", False)]
        # the math row holds this term only: the next term lists the class teacher alone
        spring = next(t for t in w.klass.school_year.terms if t.id != w.term.id)
        later = service.list_assignments(db.session, reg, spring, w.klass.school_id)
        assert [(r.subject_code) for r in later if r.class_id == w.klass.id] == [None]
        # t_a now sees the class; another teacher of the school sees nothing of it
        assert w.klass.id in w.scope("t_a").class_ids
        t_a_rows = service.list_assignments(db.session, w.scope("t_a"), w.term, w.klass.school_id)
        assert {r.class_id for r in t_a_rows} == {w.klass.id}
        assert service.list_assignments(db.session, w.scope("t_b"), w.term, w.klass.school_id) == []

        math = next(r for r in rows if r.subject_code == "math")
        assert [
            p.code
            for p in refused(lambda: service.unassign(db.session, w.scope("lead_s"), math.id))
        ] == ["teaching.not_registrar"]
        assert [
            p.code for p in refused(lambda: service.unassign(db.session, w.scope("reg_r"), math.id))
        ] == ["teaching.not_found"]
        service.unassign(db.session, reg, math.id)
        db.session.commit()
        assert db.session.get(TeachingAssignment, math.id) is None
        logged = db.session.scalars(
            select(AuditLog.action).where(AuditLog.table_name == "teaching_assignment")
        ).all()
        assert len(logged) == 3  # two added, one removed


def test_teaching_screens(lc):
    with lc.app.app_context():
        w = Setup(lc)
        class_id, term_id, t_a, not_taught = w.klass.id, w.term.id, w.t_a, w.not_taught
        name = w.klass.name
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    registrar = english(lc.app.test_client())
    login(registrar, lc.cast.users["reg_s"])
    page = registrar.get("/teaching/?_l_=en")
    assert page.status_code == 200 and 'id="teaching-add"' in page.get_data(as_text=True)
    done = registrar.post(
        "/teaching/assign",
        data={"class": class_id, "subject": "chinese", "teacher": t_a, "term": term_id},
        follow_redirects=True,
    )
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "Teacher assigned" in body and "this term" in body
    bad = registrar.post(
        "/teaching/assign?_l_=en",
        data={"class": class_id, "subject": not_taught, "teacher": t_a, "term": term_id},
        follow_redirects=True,
    )
    assert "does not teach" in bad.get_data(as_text=True) and name in bad.get_data(as_text=True)
    with lc.app.app_context():
        rows = db.session.scalars(
            select(TeachingAssignment).where(TeachingAssignment.class_id == class_id)
        ).all()
        assert [(r.subject_code, r.user_id, r.term_id) for r in rows] == [("chinese", t_a, term_id)]
        row_id = rows[0].id
    # the school leader reads, and may not remove
    leader = lc.app.test_client()
    login(leader, lc.cast.users["lead_s"])
    body = leader.get("/teaching/?_l_=en").get_data(as_text=True)
    assert "t_a" in body and 'id="teaching-add"' not in body
    assert leader.post("/teaching/unassign", data={"id": row_id}).status_code != 200
    with lc.app.app_context():
        assert db.session.get(TeachingAssignment, row_id) is not None
    removed = registrar.post("/teaching/unassign", data={"id": row_id, "term": term_id})
    assert removed.status_code == 302
    with lc.app.app_context():
        assert db.session.get(TeachingAssignment, row_id) is None
