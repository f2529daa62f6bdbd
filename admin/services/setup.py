"""`xueji init`: migrate, load reference data, create roles and permissions. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_migrate import upgrade
from sqlalchemy import inspect

from .. import MIGRATIONS_DIR
from ..audit import record_batch
from ..audit.listener import BULK_KEY
from ..extensions import db
from ..security.roles import ROLES
from .reference_data import LoadResult, load_code_tables, load_regions


@dataclass
class InitReport:
    migrated_from: str | None = None
    migrated_to: str | None = None
    codes: LoadResult = field(default_factory=LoadResult)
    regions: LoadResult = field(default_factory=LoadResult)
    roles_created: list[str] = field(default_factory=list)
    permissions: dict[str, int] = field(default_factory=dict)
    diploma_key: str = ""
    diploma_key_created: bool = False


def _current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def initialize() -> InitReport:
    """Bring the database to the current schema and reference data. Must run in an app context."""
    report = InitReport(migrated_from=_current_revision())
    upgrade(directory=MIGRATIONS_DIR)
    report.migrated_to = _current_revision()

    session = db.session
    # Thousands of reference rows: one audit batch entry per load instead of one per row.
    session.info[BULK_KEY] = "reference data"
    try:
        report.codes = load_code_tables(session)
        report.regions = load_regions(session)
        session.flush()
    finally:
        session.info.pop(BULK_KEY, None)
    for label, result in (("code_item", report.codes), ("region", report.regions)):
        if result.inserted or result.updated:
            record_batch(
                session,
                "load",
                label,
                result.inserted + result.updated,
                f"xueji init: reference data ({result})",
            )
    session.commit()

    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    before = {r.name for r in sm.get_all_roles()}
    # Role rows only: the DDL is Alembic's (FAB_CREATE_DB is off).
    BaseSecurityManager.create_db(sm)
    appbuilder.add_permissions(update_perms=True)  # each new permission is granted to Admin
    for name in ROLES:
        if sm.find_role(name) is None:
            sm.add_role(name)
    report.permissions = sm.sync_role_definitions()
    after = {r.name for r in sm.get_all_roles()}
    report.roles_created = sorted(after - before)
    session.commit()
    report.diploma_key, report.diploma_key_created = _ensure_diploma_key()
    return report


def _ensure_diploma_key() -> tuple[str, bool]:
    """The diploma signing key lives outside the database (XUEJI_DIPLOMA_KEY_DIR)."""
    from ..config import ConfigError
    from .diplomas import KeyRing

    ring = KeyRing.from_config(current_app.config)
    try:
        return ring.ensure()
    except OSError as exc:
        raise ConfigError(
            f"XUEJI_DIPLOMA_KEY_DIR={ring.folder}: cannot create the diploma signing key "
            f"({exc.strerror})"
        ) from None


def is_initialized() -> bool:
    return "student" in inspect(db.engine).get_table_names()
