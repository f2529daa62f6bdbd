"""Messages (消息): in-app notices to one user, plus an e-mail copy when SMTP is configured.

A notice is stored as a kind, a dedupe key and the *codes and parameters* of its subject and
body (admin/domain/catalogs/notifications.py and the rule catalogs), and rendered in the
reader's language when read. Raising the same notice twice (same user, same dedupe key) is a
no-op, so an alert that stays true does not flood the parent with one message per save.

Attendance alerts (admin/domain/attendance.py) go to the class teacher(s), the school's
registrars and leaders, and the student's linked parents; a dropout warning carries a link to
the 辍学 status-change form for the school's staff. The caller commits; mail is built from
committed rows (``mail_for``) and sent by the caller, outside the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..domain.attendance import AlertKind, AttendanceAlert
from ..domain.messages import EN, ZH_CN, Violation
from ..models import (
    Notification,
    ParentLink,
    SchoolClass,
    Student,
    TeachingAssignment,
    UserScope,
)
from ..models.students import utcnow
from ..security.masking import mask_value

DROPOUT_CHANGE_TYPE = "28"  # status_change_type 辍学
SCHOOL_STAFF_ROLES = ("SchoolRegistrar", "SchoolLeader")


@dataclass(frozen=True)
class Notice:
    kind: str
    dedupe_key: str
    subject: Violation  # a notice.* code; {student} is filled in when rendered
    body: Violation | None = None
    student_id: int | None = None
    link: str | None = None


def _encode(v: Violation | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {"code": v.code, "field": v.field, "params": dict(v.params)}


def _decode(data: dict[str, Any] | None) -> Violation | None:
    if not data:
        return None
    return Violation(data["code"], data.get("field", "notification"), data.get("params", {}))


def raise_notice(session: Session, user_ids: Iterable[int], notice: Notice) -> list[Notification]:
    """Give ``notice`` to every user that does not already hold its dedupe key."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    held = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.user_id.in_(wanted), Notification.dedupe_key == notice.dedupe_key
            )
        )
    )
    params = json.dumps(
        {"subject": _encode(notice.subject), "body": _encode(notice.body)}, ensure_ascii=False
    )
    rows = [
        Notification(
            user_id=user_id,
            student_id=notice.student_id,
            kind=notice.kind,
            dedupe_key=notice.dedupe_key[:120],
            params=params,
            link=notice.link,
        )
        for user_id in wanted
        if user_id not in held
    ]
    session.add_all(rows)
    session.flush()
    return rows


@dataclass(frozen=True)
class Rendered:
    id: int
    kind: str
    subject: str
    body: str
    link: str | None
    created_at: Any
    read: bool
    student_id: int | None


def render(session: Session, row: Notification, locale: str, *, masked: bool = False) -> Rendered:
    data = json.loads(row.params or "{}")
    name = ""
    if row.student_id is not None:
        student = session.get(Student, row.student_id)
        name = student.name if student is not None else ""
        if masked:
            name = str(mask_value("name", name))
    subject = _decode(data.get("subject"))
    body = _decode(data.get("body"))
    subject_text = ""
    if subject is not None:
        subject_text = Violation(subject.code, subject.field, {**subject.params, "student": name})
        subject_text = subject_text.message(locale)
    body_text = body.message(locale) if body is not None else ""
    return Rendered(
        row.id,
        row.kind,
        subject_text,
        body_text,
        row.link,
        row.created_at,
        row.read_at is not None,
        row.student_id,
    )


def inbox(session: Session, user_id: int, *, limit: int = 200) -> Sequence[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notices read (all of them when ``ids`` is None); another user's
    ids are ignored, never an error that would confirm they exist."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = session.execute(stmt.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


# --- e-mail -------------------------------------------------------------------------------


def mail_for(
    session: Session, rows: Iterable[Notification], *, sender: str, base_url: str
) -> list[EmailMessage]:
    """One bilingual message per notice whose user has an e-mail address; marks it e-mailed.
    The student's name is masked: the full record is behind the login."""
    from flask_appbuilder.security.sqla.models import User

    messages = []
    for row in rows:
        user = session.get(User, row.user_id)
        email = (getattr(user, "email", "") or "").strip()
        if not email or "@" not in email or email.endswith("@invalid"):
            continue
        zh = render(session, row, ZH_CN, masked=True)
        en = render(session, row, EN, masked=True)
        link = base_url.rstrip("/") + (row.link or "/messages/")
        footer_zh = Violation("notice.mail_footer", "notification", {"link": link})
        message = EmailMessage()
        message["Subject"] = f"{zh.subject} / {en.subject}"
        message["From"] = sender
        message["To"] = email
        message.set_content(
            "\n\n".join(
                part
                for part in (
                    zh.body,
                    footer_zh.message(ZH_CN),
                    "—",
                    en.body,
                    footer_zh.message(EN),
                )
                if part
            )
        )
        messages.append(message)
        row.emailed_at = utcnow()
    return messages


# --- attendance alerts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recipients:
    class_teachers: list[int]
    school_staff: list[int]
    parents: list[int]


def attendance_recipients(session: Session, klass: SchoolClass, student_id: int) -> Recipients:
    from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

    teachers = session.scalars(
        select(TeachingAssignment.user_id).where(
            TeachingAssignment.class_id == klass.id, TeachingAssignment.subject_code.is_(None)
        )
    ).all()
    staff = session.scalars(
        select(UserScope.user_id)
        .join(User, User.id == UserScope.user_id)
        .join(assoc_user_role, assoc_user_role.c.user_id == User.id)
        .join(Role, Role.id == assoc_user_role.c.role_id)
        .where(
            UserScope.school_id == klass.school_id,
            Role.name.in_(SCHOOL_STAFF_ROLES),
            User.active.is_(True),
        )
    ).all()
    parents = session.scalars(
        select(ParentLink.user_id).where(ParentLink.student_id == student_id)
    ).all()
    return Recipients(sorted(set(teachers)), sorted(set(staff)), sorted(set(parents)))


def raise_attendance_alerts(
    session: Session,
    klass: SchoolClass,
    alerts: Iterable[tuple[int, AttendanceAlert]],
) -> list[Notification]:
    """Notify about each (student id, alert) not notified before: the class teacher, the
    school and the parents; a dropout warning also asks the school to act (辍学 form)."""
    made: list[Notification] = []
    for student_id, alert in alerts:
        who = attendance_recipients(session, klass, student_id)
        key = f"attendance:{alert.kind.value}:{student_id}:{alert.first_day.isoformat()}"
        subject_params = {"class_name": klass.name}
        body = alert.reason
        staff_notice = Notice(
            kind="dropout_warning" if alert.kind is AlertKind.DROPOUT else "attendance_alert",
            dedupe_key=key,
            subject=Violation(
                "notice.dropout_warning"
                if alert.kind is AlertKind.DROPOUT
                else "notice.attendance_alert",
                "notification",
                subject_params,
            ),
            body=body,
            student_id=student_id,
            link=(
                f"/statuschange/apply?change_type={DROPOUT_CHANGE_TYPE}&student={student_id}"
                if alert.kind is AlertKind.DROPOUT
                else f"/attendance/report?class={klass.id}"
            ),
        )
        made += raise_notice(session, who.class_teachers + who.school_staff, staff_notice)
        parent_notice = Notice(
            kind="attendance_alert",
            dedupe_key=key,
            subject=Violation("notice.attendance_alert", "notification", subject_params),
            body=body,
            student_id=student_id,
            link=f"/parent/attendance/{student_id}",
        )
        made += raise_notice(session, who.parents, parent_notice)
    return made


def term_start(session: Session, klass: SchoolClass, day: date) -> date | None:
    from ..models import Term

    term = session.scalars(
        select(Term).where(
            Term.school_year_id == klass.school_year_id,
            Term.start_date <= day,
            Term.end_date >= day,
        )
    ).first()
    return term.start_date if term is not None else None


# --- results and evaluations ------------------------------------------------------------------


def _parents_of(session: Session, student_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for student_id, user_id in session.execute(
        select(ParentLink.student_id, ParentLink.user_id).where(
            ParentLink.student_id.in_(list(student_ids))
        )
    ):
        out.setdefault(student_id, []).append(user_id)
    return out


def raise_results_published(session: Session, exam: Any) -> list[Notification]:
    """Tell each covered student's parents that the exam's results are out (once per exam);
    the message carries no score — the portal shows what the policy allows."""
    from ..models import Score

    student_ids = set(session.scalars(select(Score.student_id).where(Score.exam_id == exam.id)))
    made: list[Notification] = []
    for student_id, parents in sorted(_parents_of(session, student_ids).items()):
        notice = Notice(
            kind="results_published",
            dedupe_key=f"results:{exam.id}:{student_id}",
            subject=Violation("notice.results_published", "notification", {"exam": exam.name}),
            student_id=student_id,
            link=f"/parent/results/{student_id}",
        )
        made += raise_notice(session, parents, notice)
    return made


def raise_evaluation_publicized(
    session: Session, class_id: int, term_id: int
) -> list[Notification]:
    """Tell the parents of a class that their child's evaluation is under publicity, with the
    period (objections are possible until its last day); once per publicity round."""
    from ..models import TermEvaluation

    rows = session.scalars(
        select(TermEvaluation).where(
            TermEvaluation.class_id == class_id,
            TermEvaluation.term_id == term_id,
            TermEvaluation.state == "publicized",
        )
    ).all()
    parents = _parents_of(session, [r.student_id for r in rows])
    made: list[Notification] = []
    for row in rows:
        if row.student_id not in parents:
            continue
        params = {
            "start": row.publicity_start.isoformat() if row.publicity_start else "",
            "end": row.publicity_end.isoformat() if row.publicity_end else "",
        }
        notice = Notice(
            kind="evaluation_publicized",
            dedupe_key=f"evaluation:{row.id}:{row.publicity_rounds}",
            subject=Violation("notice.evaluation_publicized", "notification", params),
            student_id=row.student_id,
            link=f"/parent/evaluation/{row.student_id}?term={term_id}",
        )
        made += raise_notice(session, parents[row.student_id], notice)
    return made
