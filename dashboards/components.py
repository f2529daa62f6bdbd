"""Building blocks of the pages: page header, chart card (with CSV and PNG buttons, a loading
state and a note line), KPI tile, empty states."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from .figures import empty, graph_config
from .i18n import t


def icon(name: str, extra: str = "") -> html.I:
    return html.I(className=f"bi bi-{name} {extra}".strip())


def page_header(title: str, lead: str, *tools: Any) -> html.Div:
    return html.Div(
        className="xj-page-head",
        children=[
            html.Div(
                [html.H1(title, className="xj-page-title"), html.P(lead, className="xj-page-lead")]
            ),
            html.Div(list(tools), className="d-flex gap-2"),
        ],
    )


def chart_card(chart_id: str, *, span: int = 1, height: int = 340) -> html.Div:
    """A chart card; the page callback fills `graph-<id>` (figure), the title and the note."""
    return html.Div(
        className="xj-card" + (" span-2" if span == 2 else ""),
        id=f"card-{chart_id}",
        children=[
            html.Div(
                className="xj-card-head",
                children=[
                    html.Div(
                        [
                            html.H2(
                                t("loading"),
                                id={"type": "xj-title", "chart": chart_id},
                                className="xj-card-title",
                            ),
                            html.Div(
                                "",
                                id={"type": "xj-sub", "chart": chart_id},
                                className="xj-card-sub",
                            ),
                        ]
                    ),
                    html.Div(
                        className="xj-card-tools",
                        children=[
                            html.Button(
                                [icon("filetype-csv"), " CSV"],
                                id={"type": "xj-csv", "chart": chart_id},
                                className="xj-btn-tool",
                                title=t("download_csv"),
                                n_clicks=0,
                            ),
                            html.Button(
                                [icon("image"), " PNG"],
                                id={"type": "xj-png", "chart": chart_id},
                                className="xj-btn-tool",
                                title=t("download_png"),
                                n_clicks=0,
                            ),
                            dcc.Download(id={"type": "xj-dl", "chart": chart_id}),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="xj-card-body",
                children=dcc.Loading(
                    type="dot",
                    color="#1f5fae",
                    delay_show=250,
                    children=dcc.Graph(
                        id=f"graph-{chart_id}",
                        figure=empty(t("loading"), " ", height=height),
                        config=graph_config(chart_id),
                        style={"height": f"{height}px"},
                    ),
                ),
            ),
            html.Div(id={"type": "xj-note", "chart": chart_id}, className="xj-card-note"),
        ],
    )


def kpi_tile(
    label: str, value: str, unit: str = "", delta: Any = None, accent: str = ""
) -> html.Div:
    return html.Div(
        className=f"xj-kpi {accent}".strip(),
        children=[
            html.Div(label, className="xj-kpi-label"),
            html.Div(
                [value, html.Span(unit, className="xj-kpi-unit") if unit else None],
                className="xj-kpi-value",
            ),
            html.Div(delta if delta is not None else "\u00a0", className="xj-kpi-delta"),
        ],
    )


def empty_state(title: str, text: str, icon_name: str = "inbox", action: Any = None) -> html.Div:
    return html.Div(
        className="xj-panel xj-empty",
        children=[icon(icon_name), html.H3(title), html.P(text), action],
    )


def no_snapshot_state(can_refresh: bool) -> html.Div:
    action = (
        dcc.Link(
            [icon("arrow-repeat"), " ", t("no_snapshot_action")],
            href="/dashboards/refresh",
            className="btn btn-xj btn-sm",
        )
        if can_refresh
        else None
    )
    return empty_state(t("no_snapshot_title"), t("no_snapshot_text"), "database-x", action)
