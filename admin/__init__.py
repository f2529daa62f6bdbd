"""XueJi admin: the Flask-AppBuilder application (composition root: create_app)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

MIGRATIONS_DIR = __path__[0] + "/migrations"


def create_app(**overrides: Any) -> Flask:
    """Build the app: config from XUEJI_* env (plus test overrides), extensions, views."""
    # Imported here so that `admin.domain` stays importable without loading Flask.
    from flask import Flask
    from flask_appbuilder import AppBuilder

    from .config import build_config
    from .extensions import csrf, db, install_sqlite_pragmas, migrate

    install_sqlite_pragmas()

    app = Flask(__name__)
    app.config.update(build_config())
    app.config.update(overrides)
    logging.getLogger("xueji").setLevel(app.config.get("XUEJI_LOG_LEVEL", logging.INFO))
    # FAB logs advice meant for its own CLI ("use flask fab command"); ours replaces it.
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)

    db.init_app(app)
    csrf.init_app(app)

    # Audit trail: every registry write is logged and hash-chained in its own transaction
    # (admin/audit/README.md). Listens on the Session class, so db.session and plain
    # Session(engine) sessions are covered; idempotent across apps in one process.
    from .audit import register_audit

    register_audit()

    migrate.init_app(app, db, directory=MIGRATIONS_DIR)

    with app.app_context():
        from . import models  # noqa: F401  (register tables on FAB's metadata)
        from .views import register_views

        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)

    # --- login hardening (admin/security) ---
    from .security import password_age

    password_age.init_app(app)  # after FAB's hook that sets g.user

    # --- dashboards: the Dash app at /dashboards/ on this server (dashboards/app.py) ---------
    # Mounted after FAB (its hook sets g.user, which the dashboards' guard reads).
    from dashboards.app import init_dash

    init_dash(app)
    # --- end dashboards -----------------------------------------------------------------------
    if app.config.get("XUEJI_PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["XUEJI_PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
