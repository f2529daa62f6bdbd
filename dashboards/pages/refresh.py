"""数据快照更新 Refresh snapshot (Admin and BureauOfficer): start `xueji etl` in the
background and follow its progress. Guarded twice: the /dashboards/refresh URL by the
SnapshotRefresh permission in dashboards.app, and every callback here by the same check."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from flask import abort

from .. import refresh as runner
from ..components import empty_state, icon, page_header
from ..context import runtime, user_info
from ..data import local_time, snapshot_info
from ..i18n import locale, t

PATH = "/refresh"


def _zh(zh: str, en: str) -> str:
    return en if locale() == "en" else zh


def _require() -> None:
    if not user_info().can_refresh:
        abort(403)


STATE_BADGES = {
    "idle": ("text-bg-secondary", "refresh_idle"),
    "running": ("text-bg-primary", "refresh_running"),
    "done": ("text-bg-success", "refresh_done"),
    "failed": ("text-bg-danger", "refresh_failed"),
    "interrupted": ("text-bg-warning", "refresh_failed"),
}


def status_view(status: runner.RefreshStatus) -> Any:
    cls, key = STATE_BADGES.get(status.state, STATE_BADGES["idle"])
    info = snapshot_info()
    head = html.Div(
        className="d-flex flex-wrap gap-4 align-items-center mb-3",
        children=[
            html.Span(t(key), className=f"badge {cls} xj-state-badge", id="refresh-state"),
            html.Span(
                [html.Strong(t("refresh_current") + "："), info.snapshot_id if info else "—"]
            ),
            html.Span(
                [
                    html.Strong(t("as_of") + "："),
                    f"{info.as_of_local}（{t('beijing_time')}）" if info else "—",
                ]
            ),
            html.Span([html.Strong(t("refresh_started_by") + "："), status.started_by or "—"]),
            html.Span(
                [
                    html.Strong(t("refresh_started_at") + "："),
                    local_time(status.started_at) if status.started_at else t("refresh_never"),
                ]
            ),
        ],
    )
    bar = html.Div(
        className="progress mb-3",
        style={"height": "14px"},
        children=html.Div(
            className="progress-bar"
            + (" progress-bar-striped progress-bar-animated" if status.state == "running" else "")
            + (" bg-danger" if status.state in ("failed", "interrupted") else "")
            + (" bg-success" if status.state == "done" else ""),
            style={"width": f"{status.percent}%"},
            children=f"{status.percent}%",
        ),
    )
    rows = [
        html.Tr(
            [
                html.Td(step.get("step", "")),
                html.Td(step.get("table") or step.get("check") or ""),
                html.Td(
                    f"{step['rows']:,}" if isinstance(step.get("rows"), int) else "",
                    className="text-end",
                ),
                html.Td(f"{step.get('seconds', 0):.2f}", className="text-end"),
            ]
        )
        for step in reversed(status.steps[-200:])
    ]
    table = html.Div(
        className="xj-steps",
        children=html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(t("col_step")),
                            html.Th(t("col_table")),
                            html.Th(t("col_rows"), className="text-end"),
                            html.Th(t("col_seconds"), className="text-end"),
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
            className="table table-sm table-striped",
        ),
    )
    error = (
        html.Div(
            [icon("exclamation-triangle"), " ", status.error], className="alert alert-danger py-2"
        )
        if status.error
        else None
    )
    summary = html.Div(
        f"{t('refresh_steps')}: {len(status.steps)}"
        + (f" · {t('refresh_exit')}: {status.exit_code}" if status.exit_code is not None else "")
        + (f" · {t('snapshot')}: {status.snapshot}" if status.snapshot else ""),
        className="xj-card-sub mb-2",
    )
    return html.Div([head, bar, error, summary, table if rows else None])


def layout(**_query: Any) -> Any:
    header = page_header(t("refresh_title"), t("refresh_lead"))
    if not user_info().can_refresh:
        return html.Div([header, empty_state(t("forbidden_title"), t("forbidden_text"), "lock")])
    status = runner.status(runtime().config["data_dir"])
    running = status.state == "running"
    return html.Div(
        [
            header,
            html.Div(
                className="xj-panel",
                children=[
                    html.Div(
                        className="d-flex align-items-center gap-3 mb-3",
                        children=[
                            html.Button(
                                [icon("arrow-repeat"), " ", t("refresh_start")],
                                id="refresh-start",
                                className="btn btn-xj",
                                n_clicks=0,
                                disabled=running,
                            ),
                            html.Span(id="refresh-msg", className="text-muted small"),
                        ],
                    ),
                    html.Div(status_view(status), id="refresh-status"),
                    dcc.Interval(id="refresh-poll", interval=1000, disabled=not running),
                ],
            ),
            html.Div(
                _zh(
                    "更新在独立的后台进程中运行（xueji etl），与其他更新互斥；失败时当前快照保持不变。",
                    "The update runs in a separate background process (xueji etl), one at a time; if it fails the current snapshot stays in place.",
                ),
                className="xj-card-sub",
            ),
        ]
    )


def start(n_clicks: Any) -> tuple[Any, bool, bool]:
    """Start button: launch the ETL in the background (403 without the permission)."""
    _require()
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    cfg = runtime().config
    try:
        runner.start(
            data_dir=cfg["data_dir"],
            warehouse_dir=cfg["warehouse_dir"],
            database_url=cfg["database_url"],
            user=user_info().username,
        )
    except runner.RefreshBusy:
        return t("refresh_busy"), False, True
    return t("refresh_running"), False, True


def poll(n_intervals: Any, running_msg: Any) -> tuple[Any, bool, bool, Any, Any]:
    """Progress: the log of the background run, until it ends (then the page's as-of line
    shows the new snapshot)."""
    _require()
    status = runner.status(runtime().config["data_dir"])
    running = status.state == "running"
    if running:
        return status_view(status), False, True, dash.no_update, dash.no_update
    from ..layout import asof_block

    return status_view(status), True, False, "", asof_block()


def register_page(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path=PATH,
        name="Refresh snapshot",
        title="数据快照更新 · XueJi",
        order=90,
        layout=layout,
    )
    app.callback(
        Output("refresh-msg", "children"),
        Output("refresh-poll", "disabled", allow_duplicate=True),
        Output("refresh-start", "disabled", allow_duplicate=True),
        Input("refresh-start", "n_clicks"),
        prevent_initial_call=True,
    )(start)
    app.callback(
        Output("refresh-status", "children"),
        Output("refresh-poll", "disabled"),
        Output("refresh-start", "disabled"),
        Output("refresh-msg", "children", allow_duplicate=True),
        Output("xj-asof", "children", allow_duplicate=True),
        Input("refresh-poll", "n_intervals"),
        State("refresh-msg", "children"),
        prevent_initial_call=True,
    )(poll)
