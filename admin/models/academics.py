"""Teaching records: which teacher teaches which class (and subject, per term) — the scope of a
Teacher comes from here — daily attendance (考勤), timetables (课程表), exams and scores (考试与
成绩), comprehensive quality evaluation (综合素质评价) and in-app messages (消息)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .students import utcnow


class TeachingAssignment(Model):
    __tablename__ = "teaching_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "class_id", "subject_code", name="uq_teaching_assignment"),
    )

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False, index=True)
    subject_code = Column(String(8))  # NULL = class teacher (班主任)
    term_id = Column(Integer, ForeignKey("term.id"))

    school_class = relationship("SchoolClass")


class Attendance(Model):
    """One attendance mark (考勤): a student was late, left early, or absent (旷课, 病假, 事假)
    on a school day — for the whole day (period NULL) or one lesson. Nothing recorded means
    present. ``days``/``periods`` are what the warehouse adds up (etl/schema.sql
    fact_attendance): a whole-day absence is 1 day; a mark for one lesson is 1 period; late and
    early leave count neither. admin/services/attendance.py."""

    __tablename__ = "attendance"
    __table_args__ = (
        Index("ix_attendance_class_date", "class_id", "date"),
        Index("ix_attendance_student_date", "student_id", "date"),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    date = Column(Date, nullable=False)
    kind = Column(String(12), nullable=False)  # code set attendance_kind
    period = Column(Integer)  # 节; NULL = the whole day
    periods = Column(Integer)
    days = Column(Float)
    note = Column(String(200))
    recorded_by = Column(String(64))
    recorded_at = Column(DateTime, nullable=False, default=utcnow)

    student = relationship("Student")


class TimetableSlot(Model):
    """One lesson of a class's weekly timetable for a term: weekday 1 = Monday … 7, period
    1-based (admin/domain/timetable.py). A class slot holds one lesson (the unique key);
    teacher and room clashes across classes are checked by the service, because a combined
    lesson (合班课, same ``combined`` key) legitimately shares both."""

    __tablename__ = "timetable_slot"
    __table_args__ = (
        UniqueConstraint("term_id", "class_id", "weekday", "period", name="uq_timetable_slot"),
        Index("ix_timetable_teacher", "term_id", "teacher_id", "weekday", "period"),
    )

    id = Column(Integer, primary_key=True)
    term_id = Column(Integer, ForeignKey("term.id"), nullable=False)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    weekday = Column(Integer, nullable=False)
    period = Column(Integer, nullable=False)
    subject_code = Column(String(8), nullable=False)  # code set subject
    teacher_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    room = Column(String(40))
    combined = Column(String(20))  # 合班 key shared by the slots of one combined lesson
    updated_by = Column(String(64))
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    school_class = relationship("SchoolClass")


class Exam(Model):
    """An exam (考试) of one school for one grade in a term: its papers are ``ExamSubject``
    rows, the classes it covers ``ExamClass`` rows. ``kind`` is code set exam_kind. Scores
    are entered while ``state`` is draft; publishing locks them (a later correction needs a
    reason and is audited)."""

    __tablename__ = "exam"
    __table_args__ = (Index("ix_exam_school_term", "school_id", "term_id"),)

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False)
    term_id = Column(Integer, ForeignKey("term.id"), nullable=False)
    grade_code = Column(String(2), nullable=False)
    name = Column(String(60), nullable=False)
    kind = Column(String(12), nullable=False)
    exam_date = Column(Date, nullable=False)
    state = Column(String(12), nullable=False, default="draft")  # draft | published
    published_at = Column(DateTime)
    published_by = Column(String(64))
    created_by = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    version = Column(Integer, nullable=False, default=1)

    school = relationship("School")
    term = relationship("Term")
    subjects = relationship(
        "ExamSubject", order_by="ExamSubject.sort_order", cascade="all, delete-orphan"
    )
    classes = relationship("ExamClass", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.name or ""


class ExamSubject(Model):
    """One paper of an exam: full marks and the pass and excellent lines."""

    __tablename__ = "exam_subject"
    __table_args__ = (UniqueConstraint("exam_id", "subject_code", name="uq_exam_subject"),)

    id = Column(Integer, primary_key=True)
    exam_id = Column(Integer, ForeignKey("exam.id", ondelete="CASCADE"), nullable=False)
    subject_code = Column(String(8), nullable=False)
    full_mark = Column(Numeric(6, 2), nullable=False)
    pass_line = Column(Numeric(6, 2), nullable=False)
    excellent_line = Column(Numeric(6, 2), nullable=False)
    sort_order = Column(Integer, nullable=False, default=0)


class ExamClass(Model):
    """A class an exam covers."""

    __tablename__ = "exam_class"
    __table_args__ = (UniqueConstraint("exam_id", "class_id", name="uq_exam_class"),)

    id = Column(Integer, primary_key=True)
    exam_id = Column(Integer, ForeignKey("exam.id", ondelete="CASCADE"), nullable=False)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False, index=True)

    school_class = relationship("SchoolClass")


class Score(Model):
    """One student's mark on one paper. ``score`` is NULL when ``code`` says why (absent,
    exempt, cheating — admin/domain/ranking.ScoreCode); ``absent`` is what the warehouse
    reads (fact_score). ``level`` is the grade band (等级) where bands replace raw scores
    (grades 1–2). ``full_mark`` is copied from the paper so a fact row stands alone."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("exam_id", "student_id", "subject_code", name="uq_score"),
        Index("ix_score_exam_class", "exam_id", "class_id"),
    )

    id = Column(Integer, primary_key=True)
    exam_id = Column(Integer, ForeignKey("exam.id", ondelete="CASCADE"), nullable=False)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False)
    subject_code = Column(String(8), nullable=False)
    score = Column(Numeric(6, 2))
    code = Column(String(12))  # absent | exempt | cheating
    full_mark = Column(Numeric(6, 2), nullable=False)
    level = Column(String(4))
    absent = Column(Boolean, nullable=False, default=False)
    entered_by = Column(String(64))
    entered_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    student = relationship("Student")


class TermEvaluation(Model):
    """One student's 综合素质评价 for one term: the publicity state machine of
    admin/domain/evaluation.py (draft → publicized → final, objections). The grade per
    dimension is an ``Evaluation`` row."""

    __tablename__ = "term_evaluation"
    __table_args__ = (UniqueConstraint("student_id", "term_id", name="uq_term_evaluation"),)

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    term_id = Column(Integer, ForeignKey("term.id"), nullable=False)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False, index=True)
    state = Column(String(12), nullable=False, default="draft")
    publicity_start = Column(Date)
    publicity_end = Column(Date)
    publicity_rounds = Column(Integer, nullable=False, default=0)
    finalized_on = Column(Date)
    comment = Column(Text)  # the class teacher's comment (评语)
    updated_by = Column(String(64))
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    version = Column(Integer, nullable=False, default=1)

    student = relationship("Student")
    grades = relationship("Evaluation", cascade="all, delete-orphan")
    objections = relationship(
        "EvaluationObjection", order_by="EvaluationObjection.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Evaluation(Model):
    """The A–D grade of one dimension (思想品德, 学业水平, 身心健康, 艺术素养, 社会实践) of a
    term evaluation; what the warehouse reads (fact_evaluation)."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("term_evaluation_id", "dimension", name="uq_evaluation_dimension"),
    )

    id = Column(Integer, primary_key=True)
    term_evaluation_id = Column(
        Integer, ForeignKey("term_evaluation.id", ondelete="CASCADE"), nullable=False
    )
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False)
    school_year_id = Column(Integer, ForeignKey("school_year.id"), nullable=False)
    term_id = Column(Integer, ForeignKey("term.id"), nullable=False)
    dimension = Column(String(12), nullable=False)
    level = Column(String(1), nullable=False)  # A | B | C | D


class EvaluationObjection(Model):
    """An objection (异议) raised during the publicity period, and how it was resolved."""

    __tablename__ = "evaluation_objection"

    id = Column(Integer, primary_key=True)
    term_evaluation_id = Column(
        Integer, ForeignKey("term_evaluation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    raised_on = Column(Date, nullable=False)
    raised_by = Column(String(64))
    reason = Column(String(500), nullable=False)
    outcome = Column(String(12), nullable=False, default="pending")
    resolved_on = Column(Date)
    resolved_by = Column(String(64))


class EvaluationRecord(Model):
    """A 写实记录 entry: an activity (hours, role), an award (level, date, issuer) or social
    practice (hours), under one dimension, with an optional evidence file."""

    __tablename__ = "evaluation_record"
    __table_args__ = (Index("ix_evaluation_record_student_term", "student_id", "term_id"),)

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False)
    term_id = Column(Integer, ForeignKey("term.id"), nullable=False)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    dimension = Column(String(12), nullable=False)
    kind = Column(String(12), nullable=False)  # activity | award | practice
    title = Column(String(120), nullable=False)
    happened_on = Column(Date, nullable=False)
    hours = Column(Numeric(6, 1))
    role = Column(String(40))
    award_level = Column(String(12))  # code set award_level
    issuer = Column(String(120))
    description = Column(String(1000))
    evidence_file_id = Column(Integer, ForeignKey("student_file.id"))
    recorded_by = Column(String(64))
    recorded_at = Column(DateTime, nullable=False, default=utcnow)
    verified_by = Column(String(64))

    student = relationship("Student")


class Notification(Model):
    """An in-app message (消息) to one user, about one student where it concerns one: an
    attendance alert to a parent or class teacher, published results, an evaluation under
    publicity. The text is rendered in the reader's language from ``kind`` and ``params``
    (JSON; admin/domain/catalogs/notifications.py), so nothing is frozen in one language.
    ``dedupe_key`` makes raising the same alert twice a no-op; ``emailed_at`` is set once the
    copy was handed to SMTP (when configured)."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key", name="uq_notification"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    student_id = Column(Integer, ForeignKey("student.id"), index=True)
    kind = Column(String(24), nullable=False)
    dedupe_key = Column(String(120), nullable=False)
    params = Column(Text, nullable=False, default="{}")
    link = Column(String(200))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime)
    emailed_at = Column(DateTime)
