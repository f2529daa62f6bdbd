"""The page shell: top bar, navigation, the global filters (school year, region drill-down
limited to the user's scope, stage), the snapshot's as-of time, and the callbacks shared by
every page (filters, navigation, CSV and PNG downloads)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash
from dash import MATCH, Input, Output, State, dcc, html

from analytics.scope import AnalyticsScope

from . import charts
from .charts import export_csv
from .components import icon
from .context import analytics_scope, user_info
from .data import (
    NoSnapshotYet,
    fetch,
    guarded,
    records,
    school_years,
    selection_from,
    selection_from_store,
    snapshot_info,
)
from .i18n import locale, t

URL_BASE = "/dashboards/"
LEVEL_LENGTH = {"province": 2, "prefecture": 4, "county": 6}


# --- region drill-down ----------------------------------------------------------------------


def fixed_codes(scope: AnalyticsScope) -> dict[str, str | None]:
    """Levels the user's scope fixes: a county analyst's province, prefecture and county."""
    prefix = scope.region_prefix
    fixed: dict[str, str | None] = {
        level: prefix[:n] if len(prefix) >= n else None for level, n in LEVEL_LENGTH.items()
    }
    fixed["school"] = scope.school_code
    return fixed


def region_options(scope: AnalyticsScope, parent: str, level: str) -> list[dict[str, str]]:
    """Options of the `level` dropdown: the units under `parent` (region_children), or for a
    level the user's scope fixes, that one unit (named via enrollment_by_region, since a
    county analyst may not ask about the province itself)."""
    fixed_by_scope = level in LEVEL_LENGTH and len(scope.region_prefix) >= LEVEL_LENGTH[level]
    if fixed_by_scope:
        sel = selection_from(scope=scope)
        metric_name, params = "enrollment_by_region", {"level": level}
        code_key, name_key = "region_code", "region_name"
    elif level == "school" and scope.school_code:
        sel = selection_from(scope=scope)
        metric_name, params = "region_children", {}
        code_key, name_key = "code", "name"
    else:
        sel = selection_from(region=parent or None, scope=scope)
        metric_name, params = "region_children", {}
        code_key, name_key = "code", "name"
    try:
        result = fetch(metric_name, sel, **params)
    except NoSnapshotYet:
        return []
    seen: dict[str, str] = {}
    for row in records(result):
        code = row.get(code_key)
        if isinstance(code, str) and code not in seen:
            seen[code] = str(row.get(name_key) or code)
    return [{"label": name, "value": code} for code, name in sorted(seen.items())]


def _dropdown_state(
    scope: AnalyticsScope, level: str, parent: str | None, parent_ready: bool
) -> tuple[list[dict[str, str]], str | None, bool]:
    """(options, value, disabled) of one drill-down dropdown."""
    fixed = fixed_codes(scope)[level]
    if fixed:
        # The scope's own prefix is the widest region the user may ask about; at a coarser
        # level it returns exactly the ancestor (a county analyst's province and prefecture).
        options = region_options(scope, scope.region_prefix, level)
        options = [o for o in options if o["value"] == fixed] or [{"label": fixed, "value": fixed}]
        return options, fixed, True
    if not parent_ready:
        return [], None, True
    return region_options(scope, parent or "", level), None, False


# --- layout ----------------------------------------------------------------------------------


def _nav(pages: list[charts.Page], can_refresh: bool) -> html.Div:
    links = [
        dcc.Link(
            [icon(p.icon), html.Span(t(p.nav_key))],
            href=URL_BASE + p.path.lstrip("/"),
            className="xj-nav-link",
            id=f"nav-{p.id}",
        )
        for p in pages
    ]
    # The refresh entry only for those who may refresh (a hidden placeholder otherwise, so that
    # the navigation callback always finds its output).
    extra: list[Any] = [html.Span(id="nav-refresh", hidden=True)]
    if can_refresh:
        extra = [
            html.Div("运维" if locale() == "zh" else "Operations", className="xj-nav-section"),
            dcc.Link(
                [icon("arrow-repeat"), html.Span(t("nav_refresh"))],
                href=URL_BASE + "refresh",
                className="xj-nav-link",
                id="nav-refresh",
            ),
        ]
    return html.Nav(
        className="xj-sidebar",
        children=[
            html.Div("看板" if locale() == "zh" else "Dashboards", className="xj-nav-section"),
            *links,
            *extra,
            html.Div(t("footer"), className="xj-sidebar-foot"),
        ],
    )


def asof_block() -> list[Any]:
    info = snapshot_info()
    if info is None:
        return [html.Div(t("no_snapshot_title"), className="text-danger fw-semibold")]
    return [
        html.Div(
            [
                icon("clock-history"),
                " ",
                t("as_of"),
                " ",
                html.Strong(info.as_of_local),
                f"（{t('beijing_time')}）" if locale() == "zh" else f" ({t('beijing_time')})",
            ]
        ),
        html.Div(f"{t('snapshot')} {info.snapshot_id}", className="small"),
    ]


def _filter(label: str, component: Any, wide: bool = False) -> html.Div:
    return html.Div(
        [html.Label(label), component], className="xj-filter" + (" wide" if wide else "")
    )


def _filterbar(scope: AnalyticsScope) -> tuple[html.Div, dict[str, Any]]:
    years = school_years()
    default_year = _default_year(scope, years)
    province = _dropdown_state(scope, "province", "", True)
    prefecture = _dropdown_state(scope, "prefecture", province[1], bool(province[1]))
    county = _dropdown_state(scope, "county", prefecture[1], bool(prefecture[1]))
    school = _dropdown_state(scope, "school", county[1], bool(county[1]))

    def dropdown(id_: str, state: tuple[list[dict[str, str]], str | None, bool], ph: str) -> Any:
        return dcc.Dropdown(
            id=id_,
            options=state[0],
            value=state[1],
            disabled=state[2],
            placeholder=ph,
            clearable=not state[2],
            searchable=True,
        )

    stage_options = [{"label": t("all_stages"), "value": "all"}] + [
        {"label": t(charts.STAGE_KEYS[s]), "value": s} for s in ("primary", "junior", "senior")
    ]
    controls = html.Div(
        id="xj-filter-controls",
        className="d-flex flex-wrap align-items-end gap-3",
        children=[
            _filter(
                t("f_school_year"),
                dcc.Dropdown(
                    id="f-year",
                    options=[{"label": y, "value": y} for y in reversed(years)],
                    value=default_year,
                    clearable=False,
                    searchable=False,
                ),
            ),
            _filter(t("f_province"), dropdown("f-province", province, t("all_provinces"))),
            _filter(t("f_prefecture"), dropdown("f-prefecture", prefecture, t("all_prefectures"))),
            _filter(t("f_county"), dropdown("f-county", county, t("all_counties"))),
            _filter(t("f_school"), dropdown("f-school", school, t("all_schools")), wide=True),
            _filter(
                t("f_stage"),
                dcc.Dropdown(
                    id="f-stage",
                    options=stage_options,
                    value="all",
                    clearable=False,
                    searchable=False,
                ),
            ),
        ],
    )
    bar = html.Div(
        className="xj-filterbar",
        children=[controls, html.Div(asof_block(), className="xj-asof", id="xj-asof")],
    )
    region = county[1] or prefecture[1] or province[1] or ""
    initial = {
        "school_year": default_year,
        "region": region,
        "school": school[1],
        "stage": None,
    }
    return bar, initial


def _default_year(scope: AnalyticsScope, years: list[str]) -> str | None:
    try:
        rows = records(fetch("key_figures", selection_from(scope=scope)))
    except NoSnapshotYet:
        return None
    if rows and rows[0].get("school_year") in years:
        return str(rows[0]["school_year"])
    return years[-1] if years else None


def _topbar(info: Any) -> html.Header:
    lang_target = "en" if locale() == "zh" else "zh"
    scope_label = info.scope_label_en if locale() == "en" else info.scope_label_zh
    return html.Header(
        className="xj-topbar",
        children=[
            html.A(
                [
                    html.Span("学", className="xj-emblem"),
                    html.Div(
                        [
                            html.Div(t("brand"), className="xj-brand-title"),
                            html.Div(t("brand_sub"), className="xj-brand-sub"),
                        ]
                    ),
                ],
                href=URL_BASE,
                className="xj-brand",
            ),
            html.Div(
                className="xj-topbar-right",
                children=[
                    html.Span(
                        [
                            icon("geo-alt"),
                            " ",
                            t("scope"),
                            "：" if locale() == "zh" else ": ",
                            scope_label,
                        ],
                        className="xj-scope-chip",
                    ),
                    html.Span([icon("person-circle"), " ", info.display_name], className="xj-user"),
                    html.A(
                        [icon("translate"), " ", t("language")],
                        href=f"{URL_BASE}lang/{lang_target}?next={quote(URL_BASE)}",
                        id="xj-lang",
                        className="xj-toplink",
                    ),
                    html.A(
                        [icon("box-arrow-left"), " ", t("back_to_admin")],
                        href="/",
                        className="xj-toplink",
                    ),
                ],
            ),
        ],
    )


def serve_layout() -> Any:
    """The shell. Dash also calls this with no request and before anyone has signed in
    (STACK_NOTES §3): then it returns a bare container."""
    info = user_info()
    scope = analytics_scope() if info.is_authenticated else None
    if scope is None:
        return html.Div(
            [dcc.Location(id="xj-url"), dcc.Store(id="xj-filters"), dash.page_container]
        )
    from .pages import PAGES

    bar, initial = _filterbar(scope)
    return html.Div(
        lang="zh-CN" if locale() == "zh" else "en",
        children=[
            dcc.Location(id="xj-url"),
            dcc.Store(id="xj-filters", data=initial),
            _topbar(info),
            html.Div(
                className="xj-shell",
                children=[
                    _nav(PAGES, info.can_refresh),
                    html.Main(
                        className="xj-main",
                        children=[
                            bar,
                            html.Div(dash.page_container, className="xj-content"),
                            html.Footer(t("footer"), className="xj-footer"),
                        ],
                    ),
                ],
            ),
        ],
    )


# --- shared callbacks -------------------------------------------------------------------------


@guarded
def cascade_prefecture(province: Any) -> tuple[Any, Any, Any]:
    scope = _scope()
    sel = selection_from(region=province, scope=scope)  # 400/403 on crafted values
    return _dropdown_state(scope, "prefecture", sel.region, bool(sel.region))


@guarded
def cascade_county(prefecture: Any) -> tuple[Any, Any, Any]:
    scope = _scope()
    sel = selection_from(region=prefecture, scope=scope)
    return _dropdown_state(scope, "county", sel.region, len(sel.region) >= 4)


@guarded
def cascade_school(county: Any) -> tuple[Any, Any, Any]:
    scope = _scope()
    sel = selection_from(region=county, scope=scope)
    return _dropdown_state(scope, "school", sel.region, len(sel.region) >= 6)


@guarded
def resolve_filters(
    year: Any, province: Any, prefecture: Any, county: Any, school: Any, stage: Any
) -> dict[str, Any]:
    """The one selection every page reads, checked against the scope (400/403 otherwise)."""
    scope = _scope()
    region = county or prefecture or province or ""
    stage_value = None if stage in (None, "", "all") else stage
    sel = selection_from(year, region, school, stage_value, scope)
    return {
        "school_year": sel.school_year,
        "region": sel.region,
        "school": sel.school,
        "stage": sel.stage,
    }


@guarded
def download_csv(n_clicks: Any, filters: Any) -> Any:
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    chart_id = dash.ctx.triggered_id["chart"] if dash.ctx.triggered_id else None
    sel = selection_from_store(filters, _scope())
    try:
        return export_csv(chart_id, sel)
    except KeyError:
        from flask import abort

        abort(400)


def nav_classes(pathname: Any) -> list[Any]:
    """The active navigation entry; the filters are hidden on the refresh page."""
    from .pages import PAGES

    path = pathname if isinstance(pathname, str) else URL_BASE
    rest = (path[len(URL_BASE) :] if path.startswith(URL_BASE) else "").strip("/")
    out: list[Any] = []
    for p in PAGES:
        active = rest == p.path.strip("/")
        out.append("xj-nav-link active" if active else "xj-nav-link")
    out.append("xj-nav-link active" if rest == "refresh" else "xj-nav-link")
    out.append({"visibility": "hidden"} if rest == "refresh" else {})
    # the language switch comes back to this page
    target = "en" if locale() == "zh" else "zh"
    out.append(f"{URL_BASE}lang/{target}?next={quote(URL_BASE + rest)}")
    return out


def _scope() -> AnalyticsScope:
    scope = analytics_scope()
    if scope is None:
        from flask import abort

        abort(403)
    return scope  # type: ignore[no-any-return]


PNG_JS = """
function(n, title, sub) {
    const dc = window.dash_clientside;
    if (!n) { return dc.no_update; }
    const done = 'xj-btn-tool';
    const trig = dc.callback_context.triggered_id;
    const chart = trig && trig.chart;
    const host = document.getElementById('graph-' + chart);
    const gd = host && (host.classList.contains('js-plotly-plot') ? host : host.querySelector('.js-plotly-plot'));
    if (!gd || !window.Plotly) { return dc.no_update; }
    // The card's title and context line go into the image, above whatever the chart already
    // uses at its top (legend, automargins), so that the PNG reads on its own.
    const full = gd._fullLayout || {};
    const top = (full._size ? full._size.t : (full.margin ? full.margin.t : 16)) + 72;
    const layout = Object.assign({}, gd.layout, {
        title: {text: '<b>' + (title || '') + '</b>', x: 0.02, xanchor: 'left',
                y: 1, yanchor: 'top', yref: 'container', pad: {t: 18},
                font: {size: 16}, subtitle: {text: sub || '', font: {size: 12, color: '#66758a'}}},
        margin: Object.assign({}, gd.layout.margin || {}, {t: top}),
        height: (full.height || 400) + 72,
        width: full.width || 800
    });
    window.Plotly.toImage({data: gd.data, layout: layout}, {format: 'png', scale: 2}).then(function(url) {
        const a = document.createElement('a');
        a.href = url;
        a.download = chart + '.png';
        document.body.appendChild(a);
        a.click();
        a.remove();
    });
    return done;
}
"""


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output("f-prefecture", "options"),
        Output("f-prefecture", "value"),
        Output("f-prefecture", "disabled"),
        Input("f-province", "value"),
        prevent_initial_call=True,
    )(cascade_prefecture)
    app.callback(
        Output("f-county", "options"),
        Output("f-county", "value"),
        Output("f-county", "disabled"),
        Input("f-prefecture", "value"),
        prevent_initial_call=True,
    )(cascade_county)
    app.callback(
        Output("f-school", "options"),
        Output("f-school", "value"),
        Output("f-school", "disabled"),
        Input("f-county", "value"),
        prevent_initial_call=True,
    )(cascade_school)
    app.callback(
        Output("xj-filters", "data"),
        Input("f-year", "value"),
        Input("f-province", "value"),
        Input("f-prefecture", "value"),
        Input("f-county", "value"),
        Input("f-school", "value"),
        Input("f-stage", "value"),
        prevent_initial_call=True,
    )(resolve_filters)
    app.callback(
        Output({"type": "xj-dl", "chart": MATCH}, "data"),
        Input({"type": "xj-csv", "chart": MATCH}, "n_clicks"),
        State("xj-filters", "data"),
        prevent_initial_call=True,
    )(download_csv)
    app.clientside_callback(
        PNG_JS,
        Output({"type": "xj-png", "chart": MATCH}, "className"),
        Input({"type": "xj-png", "chart": MATCH}, "n_clicks"),
        State({"type": "xj-title", "chart": MATCH}, "children"),
        State({"type": "xj-sub", "chart": MATCH}, "children"),
        prevent_initial_call=True,
    )

    from .pages import PAGES

    app.callback(
        *[Output(f"nav-{p.id}", "className") for p in PAGES],
        Output("nav-refresh", "className"),
        Output("xj-filter-controls", "style"),
        Output("xj-lang", "href"),
        Input("xj-url", "pathname"),
    )(nav_classes)
