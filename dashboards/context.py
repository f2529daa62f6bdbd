"""What a page or callback needs from the request it runs in: the runtime (snapshot store,
cache, the user's analytics scope), without importing admin.

`dashboards.app.init_dash` (the composition root's mount) puts a `Runtime` into
`server.extensions["xueji_dashboards"]`; its `scope_provider` maps the signed-in FAB user to
an `AnalyticsScope`. Pages call `analytics_scope()` and never read `g.user` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_app_context, has_request_context

EXTENSION_KEY = "xueji_dashboards"


@dataclass
class UserInfo:
    username: str = "-"
    display_name: str = ""
    scope_label_zh: str = ""
    scope_label_en: str = ""
    can_refresh: bool = False
    is_authenticated: bool = False


@dataclass
class Runtime:
    store: Any  # etl.store.SnapshotStore
    cache: Any  # flask_caching.Cache
    scope_provider: Callable[[], Any]  # () -> AnalyticsScope | None
    user_provider: Callable[[], UserInfo]
    config: dict[str, Any] = field(default_factory=dict)
    dash_app: Any = None


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions[EXTENSION_KEY]
    return rt


def has_runtime() -> bool:
    return has_app_context() and EXTENSION_KEY in current_app.extensions


def analytics_scope() -> Any:
    """The signed-in user's AnalyticsScope (None: no statistics scope), once per request."""
    if not has_request_context():
        return None
    cached = getattr(g, "_xueji_analytics_scope", ...)
    if cached is ...:
        cached = runtime().scope_provider()
        g._xueji_analytics_scope = cached
    return cached


def user_info() -> UserInfo:
    if not (has_request_context() and has_runtime()):
        return UserInfo()
    cached = getattr(g, "_xueji_dash_user", None)
    if cached is None:
        cached = runtime().user_provider()
        g._xueji_dash_user = cached
    return cached
