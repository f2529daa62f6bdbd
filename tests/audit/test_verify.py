"""`xueji audit verify`: passes on an untouched log and names the entry after a direct SQL
edit, a forged insert and a deleted entry (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, select, update

from admin.audit import audit_actor
from admin.audit.chain import GENESIS, canonical, compute_hash
from admin.cli import main
from admin.extensions import db
from admin.models import AuditLog, Student
from admin.models.students import utcnow

LOG = AuditLog.__table__


@pytest.fixture
def verify(initialized_app, world, tmp_path):
    url = initialized_app.config["SQLALCHEMY_DATABASE_URI"]
    env = {"XUEJI_DATABASE_URL": url, "XUEJI_DATA_DIR": str(tmp_path)}

    def run(*args: str):
        return CliRunner().invoke(main, ["audit", "verify", *args], env=env)

    return run


def _change_students(app, world, n: int = 3) -> None:
    with app.app_context(), audit_actor("clerk"):
        for i in range(n):
            db.session.get(Student, world.students["A"]).phone = f"1380000000{i}"
            db.session.commit()


def _ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.id).order_by(AuditLog.id)))


def _sql(app, statement) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(statement)


def _broken(result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "audit log BROKEN" in result.output
    return [line for line in result.output.splitlines() if line.startswith("Audit entry")]


def test_untouched_log_is_intact(initialized_app, world, verify):
    _change_students(initialized_app, world)
    result = verify()
    assert result.exit_code == 0, result.output
    count = len(_ids(initialized_app))
    assert f"audit log intact: {count} entries" in result.output
    assert re.search(r"last entry: #\d+ [0-9a-f]{64}", result.output)


def test_edited_entry_is_named(initialized_app, world, verify):
    _change_students(initialized_app, world)
    target = _ids(initialized_app)[-2]
    _sql(
        initialized_app,
        update(LOG)
        .where(LOG.c.id == target)
        .values(changes={"phone": {"old": "13995112233", "new": "13912345678"}}),
    )
    assert _broken(verify()) == [
        f"Audit entry #{target}: edited — its content no longer matches its hash"
    ]


def test_forged_insert_is_named(initialized_app, world, verify):
    _change_students(initialized_app, world, 1)
    forged = {
        "at": utcnow(),
        "username": "clerk",
        "action": "update",
        "table_name": "student",
        "row_pk": str(world.students["A"]),
        "changes": {"phone": {"old": "x", "new": "y"}},
    }
    _sql(initialized_app, insert(LOG).values(**forged))  # a plain INSERT: no hashes
    forged_id = _ids(initialized_app)[-1]
    _change_students(initialized_app, world, 2)  # the application carries on after it
    assert _broken(verify()) == [
        f"Audit entry #{forged_id}: inserted — it is not part of the hash chain"
    ]


def test_forged_insert_with_copied_hashes_is_named(initialized_app, world, verify):
    """A forger who copies the chain columns of the last entry still does not match."""
    _change_students(initialized_app, world, 1)
    with initialized_app.app_context():
        tail = db.session.execute(select(LOG).order_by(LOG.c.id.desc()).limit(1)).mappings().one()
    row = {k: v for k, v in tail.items() if k != "id"}
    row["changes"] = {"phone": {"old": "13995112233", "new": "13700000000"}}
    _sql(initialized_app, insert(LOG).values(**row))
    forged_id = _ids(initialized_app)[-1]
    _change_students(initialized_app, world, 1)
    lines = _broken(verify())
    assert len(lines) == 1 and lines[0].startswith(f"Audit entry #{forged_id}: ")


def test_deleted_middle_entry_is_named(initialized_app, world, verify):
    _change_students(initialized_app, world, 4)
    ids = _ids(initialized_app)
    victim, after = ids[-3], ids[-2]
    _sql(initialized_app, delete(LOG).where(LOG.c.id == victim))
    lines = _broken(verify())
    assert len(lines) == 1
    assert lines[0].startswith(f"Audit entry #{after}: deleted (or rewritten) entries before it")
    assert f"#{ids[-4]}" in lines[0]


def test_deleted_first_entry_is_named(initialized_app, world, verify):
    ids = _ids(initialized_app)
    _sql(initialized_app, delete(LOG).where(LOG.c.id == ids[0]))
    [line] = _broken(verify())
    assert line.startswith(f"Audit entry #{ids[1]}: deleted (or rewritten) entries before it")


def test_tail_deletion_needs_an_anchor(initialized_app, world, verify):
    """The documented limit: a truncated tail is a shorter valid chain, unless the operator
    kept the last hash of an earlier run and passes it back as --anchor."""
    _change_students(initialized_app, world, 2)
    anchor = re.search(r"last entry: #\d+ ([0-9a-f]{64})", verify().output).group(1)
    _sql(initialized_app, delete(LOG).where(LOG.c.id == _ids(initialized_app)[-1]))
    assert verify().exit_code == 0
    result = verify("--anchor", anchor)
    assert result.exit_code == 1
    assert f"no entry has the anchor hash {anchor}" in result.output


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(initialized_app, world, verify):
    """Recomputing the edited entry's own hash is not enough: the next entry still names
    the old one."""
    _change_students(initialized_app, world, 3)
    ids = _ids(initialized_app)
    with initialized_app.app_context():
        row = dict(db.session.execute(select(LOG).where(LOG.c.id == ids[-2])).mappings().one())
    row["reason"] = "nothing to see"
    _sql(
        initialized_app,
        update(LOG)
        .where(LOG.c.id == ids[-2])
        .values(reason=row["reason"], entry_hash=compute_hash(row)),
    )
    [line] = _broken(verify())
    assert line.startswith(f"Audit entry #{ids[-1]}: deleted (or rewritten) entries before it")


def test_hash_covers_every_column_but_entry_hash():
    entry = {
        "id": 7,
        "at": utcnow(),
        "user_id": 1,
        "username": "u",
        "address": "127.0.0.1",
        "action": "update",
        "table_name": "student",
        "row_pk": "3",
        "student_id": 3,
        "school_id": 2,
        "region_code": "640104",
        "changes": {"b": {"old": 1, "new": 2}, "a": "中"},
        "reason": "r",
        "prev_hash": GENESIS,
    }
    base = compute_hash(entry)
    assert canonical(entry) == canonical(dict(reversed(list(entry.items()))))
    for column in set(LOG.c.keys()) - {"entry_hash"}:
        changed = dict(entry, **{column: "other"})
        assert compute_hash(changed) != base, column


def test_empty_log_is_intact(initialized_app, tmp_path):
    with initialized_app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(LOG))
        assert conn.execute(select(func.count()).select_from(LOG)).scalar() == 0
    url = initialized_app.config["SQLALCHEMY_DATABASE_URI"]
    result = CliRunner().invoke(
        main, ["audit", "verify"], env={"XUEJI_DATABASE_URL": url, "XUEJI_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0 and "audit log intact: 0 entries" in result.output
