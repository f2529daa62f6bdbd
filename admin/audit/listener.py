"""The ORM listener (STACK_NOTES §1.12): every insert, update and delete of a registry row
writes an audit entry in the same transaction, hash-chained (chain.py).

* before_flush: stamps `updated_by` on rows that have it, loads values the diff will need
  (a deleted row's columns, the old value of a column set without being read), and takes the
  chain lock before the flush's own writes (fewer lock-order inversions on PostgreSQL).
* after_flush: the attribute history and session.new/dirty/deleted are still pre-flush and
  new primary keys are known; the entries go out on session.connection(), so they commit or
  roll back with the change (a savepoint rollback drops them too).
* ab_user: no field diffs (password hashes stay out of the log), but a rising login_count
  is a "login", a rising fail_login_count a "login_failed", a new password a
  "password_change" and `active` switching a "lockout" / "account_disabled" /
  "account_enabled" event.

Bulk `update()` / `insert()` / `delete()` statements and COPY skip ORM events: code that runs
them on an audited table must write its own entry with `record_batch` (README.md)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import and_, event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from ..models import (
    Exam,
    School,
    SchoolClass,
    StatusChangeRequest,
    Student,
    TermEvaluation,
    UserScope,
)
from ..models.students import utcnow
from . import chain as audit_chain
from .context import REASON_KEY, Actor, current_actor

AUDITED_TABLES = frozenset(
    {
        "student",
        "guardian",
        "enrollment",
        "student_id_document",
        "student_number_history",
        "school",
        "school_class",
        "school_year",
        "term",
        "status_change_request",
        "status_change_step",
        "graduation",
        "diploma",
        "attendance",
        "timetable_slot",
        "exam",
        "exam_subject",
        "exam_class",
        "score",
        "term_evaluation",
        "evaluation",
        "evaluation_objection",
        "evaluation_record",
        "info_change_request",
        "student_file",
        "code_item",
        "region",
        "user_scope",
        "parent_link",
        "teaching_assignment",
    }
)
USER_TABLE = "ab_user"
# Columns every update touches; they say nothing the entry does not already say.
BOOKKEEPING = frozenset({"version", "updated_at", "updated_by"})
# Tables whose rows belong to one student (column student_id).
STUDENT_ROWS = frozenset(
    {
        "guardian",
        "enrollment",
        "student_id_document",
        "student_number_history",
        "student_file",
        "parent_link",
        "status_change_request",
        "graduation",
        "diploma",
        "attendance",
        "score",
        "term_evaluation",
        "evaluation",
        "evaluation_record",
        "info_change_request",
    }
)
_BEFORE, _AFTER, _OLD = "xueji_audit_before", "xueji_audit_after", "xueji_audit_old"


def _table(obj: Any) -> str | None:
    return getattr(type(obj), "__tablename__", None)


def _pk(obj: Any) -> str:
    state = inspect(obj)
    values = state.identity if state.key else state.mapper.primary_key_from_instance(obj)
    return ",".join("" if v is None else str(v) for v in values or ())


def _value(obj: Any, key: str) -> Any:
    value = inspect(obj).dict.get(key, NO_VALUE)
    return getattr(obj, key, None) if value is NO_VALUE else value


# --- registration ------------------------------------------------------------------------------


def register_audit(target: Any = None) -> None:
    """Audit every flush of `target`: a Session class, a sessionmaker or a scoped_session.
    The default, the Session class itself, covers Flask-SQLAlchemy's `db.session` and plain
    `Session(engine)` sessions alike. Idempotent; each flush is audited once even when the
    listener is registered on both a class and its subclass."""
    target = Session if target is None else target
    for name, handler in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(target, name, handler):
            event.listen(target, name, handler)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(REASON_KEY, None)


# --- before_flush ------------------------------------------------------------------------------


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    marks = flush_context.attributes
    if marks.get(_BEFORE):
        return
    marks[_BEFORE] = True
    touched = False
    actor: Actor | None = None
    old_values: dict[int, dict[str, Any]] = {}
    for obj in chain(session.new, session.dirty):
        table = _table(obj)
        persistent = inspect(obj).key is not None
        if table == USER_TABLE and persistent:
            touched = True
            continue
        if table not in AUDITED_TABLES:
            continue
        if persistent and not session.is_modified(obj, include_collections=False):
            continue
        touched = True
        if "updated_by" in inspect(obj).mapper.columns:
            actor = actor or current_actor(session)
            _stamp_updated_by(obj, actor)
        if persistent:
            missing = _unloaded_old_values(session, obj)
            if missing:
                old_values[id(obj)] = missing
    for obj in session.deleted:
        if _table(obj) in AUDITED_TABLES:
            touched = True
            for attr in inspect(obj).mapper.column_attrs:
                getattr(obj, attr.key)  # load expired columns: the entry lists the row's values
    marks[_OLD] = old_values
    if touched:
        audit_chain.lock(session.connection())


def _stamp_updated_by(obj: Any, actor: Actor) -> None:
    history = inspect(obj).attrs.updated_by.history
    if not history.added:  # a caller that named the editor explicitly wins
        obj.updated_by = actor.username[:64]


def _unloaded_old_values(session: Session, obj: Any) -> dict[str, Any]:
    """Old values of columns assigned without having been loaded (their history has no
    'deleted' side): read them from the database before the flush overwrites them."""
    state = inspect(obj)
    mapper = state.mapper
    keys = [
        key
        for key, old in state.committed_state.items()
        if old is NO_VALUE and key in mapper.column_attrs and key not in BOOKKEEPING
    ]
    if not keys or state.identity is None:
        return {}
    columns = [mapper.column_attrs[k].columns[0] for k in keys]
    where = and_(*(c == v for c, v in zip(mapper.primary_key, state.identity, strict=True)))
    row = session.connection().execute(select(*columns).where(where)).first()
    return dict(zip(keys, row, strict=True)) if row is not None else {}


# --- after_flush -------------------------------------------------------------------------------


# A loader of reference data (code tables, regions) sets session.info[BULK_KEY] to a label
# and writes one `record_batch` entry instead of one entry per row.
BULK_KEY = "audit_bulk"


def _after_flush(session: Session, flush_context: Any) -> None:
    marks = flush_context.attributes
    if marks.get(_AFTER) or session.info.get(BULK_KEY):
        return
    marks[_AFTER] = True
    pending = [
        (action, obj)
        for action, objs in (
            ("insert", session.new),
            ("update", session.dirty),
            ("delete", session.deleted),
        )
        for obj in objs
        if _table(obj) in AUDITED_TABLES or (action == "update" and _table(obj) == USER_TABLE)
    ]
    if not pending:
        return
    actor = current_actor(session)
    at = utcnow()
    resolver = _Resolver(session, (obj for _, obj in pending))
    old_values = marks.get(_OLD, {})
    entries: list[dict[str, Any]] = []
    for action, obj in pending:
        table = _table(obj)
        if table == USER_TABLE:
            entries.extend(_user_events(obj, actor, at, resolver))
            continue
        if action == "update":
            changes = _diff(obj, old_values.get(id(obj), {}))
            if not changes:
                continue
        else:
            changes = _snapshot(obj, "new" if action == "insert" else "old")
        student_id, school_id, region_code = _context(obj, table, resolver)
        entries.append(
            {
                "at": at,
                "user_id": actor.user_id,
                "username": actor.username,
                "address": actor.address,
                "action": action,
                "table_name": table,
                "row_pk": _pk(obj),
                "student_id": student_id,
                "school_id": school_id,
                "region_code": region_code,
                "changes": changes,
                "reason": actor.reason,
            }
        )
    if entries:
        audit_chain.append(session.connection(), entries)


def _snapshot(obj: Any, side: str) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in BOOKKEEPING:
            continue
        value = state.dict.get(attr.key, NO_VALUE)
        if value is NO_VALUE or value is None:
            continue
        values[attr.key] = {side: audit_chain.jsonable(value)}
    return values


def _diff(obj: Any, prefetched: dict[str, Any]) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in BOOKKEEPING:
            continue
        history = state.attrs[key].history
        if not history.added:
            continue
        new = audit_chain.jsonable(history.added[0])
        if history.deleted:
            old = audit_chain.jsonable(history.deleted[0])
        else:
            old = audit_chain.jsonable(prefetched.get(key))
        if old != new:
            changes[key] = {"old": old, "new": new}
    return changes


def _counter_rose(state: Any, key: str) -> bool:
    history = state.attrs[key].history
    if not history.added:
        return False
    old = history.deleted[0] if history.deleted else None
    return (history.added[0] or 0) > (old or 0)


def _user_events(obj: Any, actor: Actor, at: Any, resolver: _Resolver) -> list[dict[str, Any]]:
    """Security events read off an ab_user update (FAB's update_user_auth_stat and the
    user/password screens all go through it)."""
    state = inspect(obj)
    user_id, username = _value(obj, "id"), _value(obj, "username")
    school_id, region_code = resolver.user_school_region(user_id)
    base = {
        "at": at,
        "address": actor.address,
        "table_name": None,
        "row_pk": None,
        "student_id": None,
        "school_id": school_id,
        "region_code": region_code,
        "reason": actor.reason,
    }
    own = {"user_id": user_id, "username": username}
    events: list[dict[str, Any]] = []
    failed = _counter_rose(state, "fail_login_count")
    if _counter_rose(state, "login_count"):
        events.append({**base, **own, "action": "login", "changes": {}})
    if failed:
        count = _value(obj, "fail_login_count")
        events.append({**base, **own, "action": "login_failed", "changes": {"failures": count}})
    active = state.attrs.active.history
    if active.added and active.deleted and bool(active.added[0]) != bool(active.deleted[0]):
        if active.added[0]:
            action = "account_enabled"
        else:
            action = "lockout" if failed else "account_disabled"
        who = own if action == "lockout" else {"user_id": actor.user_id, "username": actor.username}
        events.append(
            {
                **base,
                **who,
                "action": action,
                "table_name": USER_TABLE,
                "row_pk": str(user_id),
                "changes": {"username": username},
            }
        )
    if state.attrs.password.history.added:
        events.append(
            {
                **base,
                "user_id": actor.user_id,
                "username": actor.username,
                "action": "password_change",
                "table_name": USER_TABLE,
                "row_pk": str(user_id),
                "changes": {"username": username},
            }
        )
    return events


# --- which student, school and region an entry concerns ----------------------------------------


def _context(obj: Any, table: str | None, resolver: _Resolver) -> tuple[Any, Any, Any]:
    """(student_id, school_id, region_code) of a row; region_code is the school's county."""
    student_id = school_id = region_code = None
    if table == "student":
        student_id, school_id = _value(obj, "id"), _value(obj, "current_school_id")
    elif table in STUDENT_ROWS:
        student_id = _value(obj, "student_id")
        school_id = resolver.student_school(student_id)
        if school_id is None and table == "enrollment":
            school_id = _value(obj, "school_id")
        if school_id is None and table == "status_change_request":
            school_id = _value(obj, "from_school_id") or _value(obj, "to_school_id")
    elif table == "status_change_step":
        student_id = resolver.request_student(_value(obj, "request_id"))
        school_id = _value(obj, "school_id") or resolver.student_school(student_id)
        region_code = _value(obj, "region_code")
    elif table == "school":
        school_id, region_code = _value(obj, "id"), _value(obj, "region_code")
    elif table == "school_class":
        school_id = _value(obj, "school_id")
    elif table == "teaching_assignment":
        school_id = resolver.class_school(_value(obj, "class_id"))
    elif table in ("timetable_slot", "exam"):
        school_id = _value(obj, "school_id")
    elif table in ("exam_subject", "exam_class"):
        school_id = resolver.exam_school(_value(obj, "exam_id"))
    elif table == "evaluation_objection":
        student_id = resolver.evaluation_student(_value(obj, "term_evaluation_id"))
        school_id = resolver.student_school(student_id)
    elif table == "user_scope":
        school_id, region_code = _value(obj, "school_id"), _value(obj, "region_prefix") or None
    elif table == "region":
        region_code = _value(obj, "code")
    if region_code is None and school_id is not None:
        region_code = resolver.school_region(school_id)
    return student_id, school_id, region_code


class _Resolver:
    """Looks up one column of a related row: from this flush's objects, the identity map,
    else one SELECT on the flush's connection (never through the flushing session)."""

    _KEYED = {"student": Student, "school": School, "school_class": SchoolClass}

    def __init__(self, session: Session, objects: Iterable[Any]) -> None:
        self.session = session
        self.cache: dict[tuple[str, Any, str], Any] = {}
        self.flushing: dict[tuple[str | None, Any], Any] = {}
        for obj in objects:
            table = _table(obj)
            if table in (
                "student",
                "school",
                "school_class",
                "status_change_request",
                "exam",
                "term_evaluation",
            ):
                self.flushing[(table, _value(obj, "id"))] = obj

    def column(self, model: Any, pk: Any, key: str) -> Any:
        if pk is None:
            return None
        cache_key = (model.__tablename__, pk, key)
        if cache_key in self.cache:
            return self.cache[cache_key]
        obj = self.flushing.get((model.__tablename__, pk))
        if obj is None:
            identity = inspect(model).identity_key_from_primary_key((pk,))
            obj = self.session.identity_map.get(identity)
        value = inspect(obj).dict.get(key, NO_VALUE) if obj is not None else NO_VALUE
        if value is NO_VALUE:
            pk_column = inspect(model).primary_key[0]
            value = (
                self.session.connection()
                .execute(select(getattr(model, key)).where(pk_column == pk))
                .scalar()
            )
        self.cache[cache_key] = value
        return value

    def student_school(self, student_id: Any) -> Any:
        return self.column(Student, student_id, "current_school_id")

    def school_region(self, school_id: Any) -> Any:
        return self.column(School, school_id, "region_code")

    def class_school(self, class_id: Any) -> Any:
        return self.column(SchoolClass, class_id, "school_id")

    def exam_school(self, exam_id: Any) -> Any:
        return self.column(Exam, exam_id, "school_id")

    def evaluation_student(self, term_evaluation_id: Any) -> Any:
        return self.column(TermEvaluation, term_evaluation_id, "student_id")

    def request_student(self, request_id: Any) -> Any:
        return self.column(StatusChangeRequest, request_id, "student_id")

    def user_school_region(self, user_id: Any) -> tuple[Any, Any]:
        school_id = self.column(UserScope, user_id, "school_id")
        region = self.column(UserScope, user_id, "region_prefix") or None
        if region is None and school_id is not None:
            region = self.school_region(school_id)
        return school_id, region
