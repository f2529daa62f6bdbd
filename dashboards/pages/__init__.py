"""The dashboard pages (Dash pages registered with `dash.register_page`). Each module holds
its page's layout and main callback as plain functions, registered on the app by
`register_all` (not as global `@callback`s: several apps can live in one process)."""

from __future__ import annotations

import dash

from . import (
    attendance,
    data_quality,
    enrollment,
    grades,
    not_found_404,
    overview,
    progression,
    refresh,
    status_changes,
)

MODULES = (
    overview,
    enrollment,
    attendance,
    grades,
    status_changes,
    progression,
    data_quality,
)
PAGES = [m.PAGE for m in MODULES]


def register_all(app: dash.Dash) -> None:
    for module in (*MODULES, refresh, not_found_404):
        module.register_page(app)
