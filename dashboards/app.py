"""Mounting the dashboards on the admin server: the Dash app at /dashboards/, its guard
(FAB login + FAB permission), the CSRF cookie for Dash's X-CSRFToken header, the snapshot
store, the metric cache and the mapping of the FAB user onto an AnalyticsScope.

This module (with `init_dash`, called once by `admin.create_app`, the composition root) is
the only place in `dashboards/` that touches `admin`: the pages see an `AnalyticsScope` and
the analytics layer, nothing else (STACK_NOTES §3).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, g, redirect, request, session
from flask.typing import ResponseReturnValue

from .context import EXTENSION_KEY, Runtime, UserInfo, runtime

log = logging.getLogger("xueji.dashboards")

URL_BASE = "/dashboards/"
PERM_READ = ("can_read", "Dashboards")
PERM_REFRESH = ("can_read", "SnapshotRefresh")
# Dash's own endpoints and files: never redirected to the login page, 401 instead.
_MACHINE_PREFIXES = ("_dash-", "_reload-hash", "_favicon", "assets/", "_alive")


# --- the user, as the dashboards see it (composition-root code: may use admin) ---------------


def _fab_user() -> Any:
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def _scope_provider() -> Any:
    """Map the signed-in user's registry scope onto an AnalyticsScope (None: no statistics)."""
    from analytics.scope import AnalyticsScope

    if _fab_user() is None:
        return None
    from admin.base_views import current_scope
    from admin.extensions import db
    from admin.models import School

    scope = current_scope()
    if scope.kind == "national":
        return AnalyticsScope(region_prefix="")
    if scope.kind == "region":
        return AnalyticsScope(region_prefix=scope.region_prefix or "")
    if scope.kind == "school" and scope.school_id is not None:
        school = db.session.get(School, scope.school_id)
        if school is None:
            return None
        return AnalyticsScope(region_prefix=school.region_code, school_code=school.code)
    return None  # teachers' classes, parents' children, no scope: no statistics


def _has(permission: tuple[str, str]) -> bool:
    return bool(current_app.appbuilder.sm.has_access(*permission))


def _region_label(prefix: str) -> tuple[str, str]:
    from admin.extensions import db
    from admin.models import Region

    region = db.session.get(Region, prefix.ljust(6, "0"))
    name = getattr(region, "name", None) or prefix
    return name, name


def _user_provider() -> UserInfo:
    user = _fab_user()
    if user is None:
        return UserInfo()
    scope = runtime().scope_provider()
    zh = en = ""
    if scope is not None:
        school = getattr(scope, "school_code", None)
        prefix = getattr(scope, "region_prefix", "") or ""
        if school:
            from sqlalchemy import select

            from admin.extensions import db
            from admin.models import School

            row = db.session.scalar(select(School).where(School.code == school))
            zh = en = row.name if row is not None else school
        elif prefix:
            zh, en = _region_label(prefix)
        else:
            zh, en = "全国", "Nationwide"
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
    return UserInfo(
        username=user.username,
        display_name=name,
        scope_label_zh=zh,
        scope_label_en=en,
        can_refresh=_has(PERM_REFRESH),
        is_authenticated=True,
    )


# --- guard and CSRF cookie -------------------------------------------------------------------


def _is_dash_path(path: str) -> bool:
    return path == URL_BASE.rstrip("/") or path.startswith(URL_BASE)


def _anonymous_guard() -> ResponseReturnValue | None:
    """First of all hooks (before CSRFProtect): nobody signed in → login page or 401."""
    path = request.path
    if not _is_dash_path(path):
        return None
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        return None
    rest = path[len(URL_BASE) :] if path.startswith(URL_BASE) else ""
    if rest.startswith(_MACHINE_PREFIXES) or request.method != "GET":
        abort(401)
    return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path))


def _guard() -> ResponseReturnValue | None:
    """Every /dashboards/ request: signed in (else login or 401), permitted (else 403), and a
    well-formed callback request (else 400)."""
    path = request.path
    if not _is_dash_path(path):
        return None
    rest = path[len(URL_BASE) :] if path.startswith(URL_BASE) else ""
    machine = rest.startswith(_MACHINE_PREFIXES) or request.method != "GET"
    if _fab_user() is None:
        if machine:
            abort(401)
        return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path))
    if not _has(PERM_READ):
        abort(403)
    if runtime().scope_provider() is None:
        abort(403)
    if rest.startswith("refresh") and not _has(PERM_REFRESH):
        abort(403)
    if rest == "_dash-update-component":
        _check_callback_request()
    return None


def _check_callback_request() -> None:
    """A callback POST names a callback this app has, with lists of inputs and states."""
    if request.method != "POST":
        abort(405)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    output = body.get("output")
    inputs = body.get("inputs", [])
    state = body.get("state", [])
    if not isinstance(output, str) or not isinstance(inputs, list) or not isinstance(state, list):
        abort(400)
    dash_app = runtime().dash_app
    if dash_app is not None and output not in dash_app.callback_map:
        abort(400)


def _csrf_cookie(response: Any) -> Any:
    """Dash's renderer sends the `_csrf_token` cookie back as X-CSRFToken (STACK_NOTES §3)."""
    if _is_dash_path(request.path) and _fab_user() is not None and response.status_code < 400:
        from flask_wtf.csrf import generate_csrf

        response.set_cookie(
            "_csrf_token",
            generate_csrf(),
            samesite="Strict",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=False,  # the renderer must read it
            path=URL_BASE,
        )
    return response


# --- extra routes ----------------------------------------------------------------------------


def _switch_language(code: str) -> ResponseReturnValue:
    languages = current_app.config.get("LANGUAGES") or {"zh": {}, "en": {}}
    if code not in languages:
        abort(404)
    session["locale"] = code
    target = request.args.get("next", URL_BASE)
    if not target.startswith(URL_BASE) or "//" in target or "\\" in target:
        target = URL_BASE
    return redirect(target)


def _report_pdf() -> ResponseReturnValue:
    from .report import report_response

    return report_response()


# --- mount -----------------------------------------------------------------------------------


def init_dash(server: Flask) -> Any:
    """Mount the Dash app on the admin's Flask server (called once by admin.create_app)."""
    import dash
    from flask_caching import Cache

    from etl.store import SnapshotStore

    from . import layout, pages

    warehouse = Path(server.config.get("XUEJI_WAREHOUSE_DIR") or "var/warehouse")
    store = SnapshotStore(warehouse)
    data_dir = Path(server.config.get("XUEJI_DATA_DIR") or "var")
    cache_config = {
        "CACHE_TYPE": server.config.get("XUEJI_DASH_CACHE_TYPE", "SimpleCache"),
        "CACHE_DEFAULT_TIMEOUT": int(server.config.get("XUEJI_DASH_CACHE_SECONDS", 3600)),
        "CACHE_THRESHOLD": 2000,
    }
    if cache_config["CACHE_TYPE"] == "FileSystemCache":
        cache_config["CACHE_DIR"] = str(data_dir / "dash-cache")
    cache = Cache(config=cache_config)
    cache.init_app(server)
    rt = Runtime(
        store=store,
        cache=cache,
        scope_provider=_scope_provider,
        user_provider=_user_provider,
        config={
            "data_dir": str(data_dir),
            "warehouse_dir": str(warehouse),
            "database_url": str(server.config.get("SQLALCHEMY_DATABASE_URI") or ""),
        },
    )
    server.extensions[EXTENSION_KEY] = rt

    app = dash.Dash(
        __name__,
        server=server,
        url_base_pathname=URL_BASE,
        serve_locally=True,
        use_pages=True,
        pages_folder="",  # pages are registered explicitly below (one import per process)
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
        title="学籍统计分析 · XueJi",
        update_title=None,
        compress=False,
    )
    rt.dash_app = app
    pages.register_all(app)
    app.layout = layout.serve_layout
    layout.register_callbacks(app)

    # After Dash's first-request hooks (so its callback map is complete when the guard checks a
    # callback request) and after FAB's (which sets g.user).
    server.before_request(_guard)
    # Anonymous requests are answered before CSRFProtect looks at them (401, not 400).
    server.before_request_funcs.setdefault(None, []).insert(0, _anonymous_guard)
    server.after_request(_csrf_cookie)
    server.add_url_rule(
        URL_BASE + "lang/<string:code>", "xueji_dash_lang", _switch_language, methods=["GET"]
    )
    server.add_url_rule(URL_BASE + "report.pdf", "xueji_dash_report", _report_pdf)
    return app
