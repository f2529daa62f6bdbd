"""Unknown dashboard path: a designed 404 inside the shell."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc

from ..components import empty_state, icon
from ..i18n import t


def layout(**_query: Any) -> Any:
    return empty_state(
        t("not_found_title"),
        t("not_found_text"),
        "signpost-split",
        dcc.Link(
            [icon("speedometer2"), " ", t("nav_overview")],
            href="/dashboards/",
            className="btn btn-xj btn-sm",
        ),
    )


def register_page(app: dash.Dash) -> None:
    # Dash looks the 404 page up by the module name ending in "not_found_404".
    dash.register_page(__name__, path="/404", name="Not found", title="404 · XueJi", layout=layout)
