"""Concurrent writers on PostgreSQL keep one unbroken chain: the advisory lock taken before
the tail is read serialises appends, so two transactions never chain to the same entry."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.audit import audit_actor, verify_chain
from admin.extensions import db
from admin.models import AuditLog, School, SchoolClass, SchoolYear

from .conftest import build_world

THREADS = 6
COMMITS = 8


@pytest.fixture
def pg_app(request, tmp_path):
    from tests.conftest import PgDatabase, make_app

    pg = PgDatabase()
    app = make_app(pg.url, tmp_path)
    from admin.services.setup import initialize

    with app.app_context():
        initialize()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    pg.drop()


@pytest.mark.pg
def test_concurrent_writers_keep_one_chain(pg_app):
    with pg_app.app_context():
        world = build_world(db.session)
        year_id = db.session.scalar(select(SchoolYear.id))
        before = db.session.scalar(select(func.count()).select_from(AuditLog))
        db.session.commit()
        engine = db.engine
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    keys = list(world.schools)

    def writer(n: int) -> None:
        try:
            school_id = world.schools[keys[n % len(keys)]]
            barrier.wait()
            with audit_actor(f"writer{n}"), Session(engine) as session:
                for i in range(COMMITS):
                    # A row several writers update (row-lock contention) and a new row each.
                    session.get(School, school_id).address = f"writer{n} commit{i}"
                    session.add(
                        SchoolClass(
                            school_id=school_id,
                            school_year_id=year_id,
                            grade_code="13",
                            number=100 * n + i,
                            name=f"三年级({100 * n + i})班",
                        )
                    )
                    session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with pg_app.app_context(), db.engine.connect() as conn:
        report = verify_chain(conn)
        assert report.intact, [p.message() for p in report.problems]
        assert report.count - before == THREADS * COMMITS * 2
        writers = set(
            conn.execute(
                select(AuditLog.username).where(AuditLog.username.like("writer%")).distinct()
            ).scalars()
        )
        assert writers == {f"writer{n}" for n in range(THREADS)}
