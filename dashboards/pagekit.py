"""Registering a page: `dash.register_page` with a layout (header, optional extra block,
chart grid, or the designed "no snapshot yet" state) and its main callback on the global
filter store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import Input, Output, html

from .charts import Page, page_outputs
from .components import chart_card, no_snapshot_state, page_header
from .context import user_info
from .data import guarded, selection_from_store, snapshot_info
from .i18n import t


def chart_outputs(page: Page) -> list[Output]:
    outs: list[Output] = []
    for spec in page.charts:
        outs += [
            Output(f"graph-{spec.id}", "figure"),
            Output({"type": "xj-title", "chart": spec.id}, "children"),
            Output({"type": "xj-sub", "chart": spec.id}, "children"),
            Output({"type": "xj-note", "chart": spec.id}, "children"),
        ]
    return outs


def page_layout(
    page: Page, top: Callable[[], Any] | None = None, tools: Callable[[], list[Any]] | None = None
) -> Callable[..., Any]:
    def layout(**_query: Any) -> Any:
        header = page_header(t(page.title_key), t(page.lead_key), *(tools() if tools else []))
        if snapshot_info() is None:
            return html.Div([header, no_snapshot_state(user_info().can_refresh)])
        return html.Div(
            [
                header,
                top() if top else None,
                html.Div(
                    [chart_card(s.id, span=s.span, height=s.height) for s in page.charts],
                    className="xj-grid",
                ),
            ]
        )

    layout.__name__ = f"layout_{page.id}"
    return layout


def make_update(page: Page) -> Callable[[Any], list[Any]]:
    """The page's main callback: every chart of the page for the filter store."""

    @guarded
    def update(filters: Any) -> list[Any]:
        sel = selection_from_store(filters)
        return page_outputs(page, sel)

    update.__name__ = f"update_{page.id}"
    return update


def register(
    app: dash.Dash,
    module: str,
    page: Page,
    layout: Callable[..., Any],
    update: Callable[..., Any] | None,
    extra_outputs: list[Output] | None = None,
) -> None:
    dash.register_page(
        module,
        path=page.path,
        name=t(page.nav_key, "en"),
        title=f"{t(page.title_key, 'zh')} · XueJi",
        order=page.order,
        layout=layout,
    )
    if update is not None and (page.charts or extra_outputs):
        app.callback(
            *(extra_outputs or []),
            *chart_outputs(page),
            Input("xj-filters", "data"),
        )(update)
