"""Alembic environment for XueJi. Targets FAB's Model.metadata (which holds both the ab_*
security tables and the registry tables), not Flask-SQLAlchemy's db.metadata (STACK_NOTES §6)."""

import logging

from alembic import context
from flask import current_app
from flask_appbuilder import Model

import admin.models  # noqa: F401  (register every table)

config = context.config
logger = logging.getLogger("alembic.env")
target_metadata = Model.metadata


def _engine():
    return current_app.extensions["migrate"].db.engine


def _drop_empty_autogenerate(context_, revision, directives):
    # An autogenerate run that finds no change writes no empty revision file.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(url=str(_engine().url), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            process_revision_directives=_drop_empty_autogenerate,
            render_as_batch=engine.dialect.name == "sqlite",  # SQLite cannot ALTER much
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
