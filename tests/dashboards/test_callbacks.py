"""Every page's main callback, called directly (no HTTP): what it draws for a county
analyst, a provincial analyst and a school leader; the shared filter callbacks; CSV export
through dash.ctx (STACK_NOTES §5); figures reconcile with the operational database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import copy_context
from typing import Any

import plotly.graph_objects as go
import pytest
from flask import g
from werkzeug.exceptions import BadRequest, Forbidden

from dashboards import layout
from dashboards.pages import (
    attendance,
    data_quality,
    enrollment,
    grades,
    overview,
    progression,
    refresh,
    status_changes,
)
from tests.dashboards.conftest import COUNTY_A, COUNTY_B

YEAR = "2026-2027"
OWN = {"school_year": YEAR, "region": COUNTY_A, "school": None, "stage": None}


@contextmanager
def as_user(world, username: str, path: str = "/dashboards/") -> Iterator[None]:
    from flask_login import login_user

    with world.app.test_request_context(path):
        user = world.app.appbuilder.sm.get_user_by_id(world.users[username])
        login_user(user)  # FAB's has_access reads flask_login's current_user …
        g.user = user  # … and FAB's before_request hook would have set g.user
        yield


def figure(value: Any) -> go.Figure:
    return value if isinstance(value, go.Figure) else go.Figure(value)


def _charts(out: list[Any], page) -> dict[str, tuple[go.Figure, str, str, Any]]:
    charts = out[-4 * len(page.charts) :]
    return {
        spec.id: (figure(charts[4 * i]), charts[4 * i + 1], charts[4 * i + 2], charts[4 * i + 3])
        for i, spec in enumerate(page.charts)
    }


PAGES = [
    (overview, 1),
    (enrollment, 0),
    (attendance, 0),
    (grades, 0),
    (status_changes, 0),
    (progression, 1),
    (data_quality, 1),
]


@pytest.mark.parametrize("module,extra", PAGES, ids=lambda m: getattr(m, "__name__", str(m)))
def test_each_page_callback_draws_every_chart(world, module, extra: int) -> None:
    with as_user(world, "analyst"):
        out = module.update(OWN)
    assert len(out) == extra + 4 * len(module.PAGE.charts)
    for chart_id, (fig, title, subtitle, _note) in _charts(out, module.PAGE).items():
        assert isinstance(title, str) and title and title != "加载中…", chart_id
        assert "利通区" in subtitle, (chart_id, subtitle)
        assert fig.layout.height, chart_id
        # a chart is either drawn or a designed empty state, never bare axes
        assert fig.data or fig.layout.annotations, chart_id


def test_future_data_pages_show_the_designed_empty_state(world) -> None:
    with as_user(world, "analyst"):
        out = attendance.update(OWN)
    for fig, _title, _sub, _note in _charts(out, attendance.PAGE).values():
        texts = " ".join(a.text for a in fig.layout.annotations)
        assert "暂无数据" in texts and "尚未接入" in texts


def test_overview_key_figures_for_a_county(world) -> None:
    with as_user(world, "analyst"):
        out = overview.update(OWN)
    tiles = json.dumps(out[0].to_plotly_json(), ensure_ascii=False, default=str)
    con = sqlite3.connect(world.folder / "xueji.db")
    students = con.execute(
        "SELECT COUNT(*) FROM enrollment e JOIN school s ON s.id = e.school_id "
        "JOIN school_year y ON y.id = e.school_year_id "
        "WHERE e.is_active = 1 AND s.region_code = ? AND y.code = ?",
        (COUNTY_A, YEAR),
    ).fetchone()[0]
    con.close()
    assert f"{students:,}" in tiles
    assert "同比" in tiles and "在校生" in tiles


def _enrolled_by_grade(world, county: str, year: str) -> list[tuple[str, int]]:
    con = sqlite3.connect(world.folder / "xueji.db")
    try:
        return con.execute(
            "SELECT e.grade_code, COUNT(*) FROM enrollment e "
            "JOIN school s ON s.id = e.school_id JOIN school_year y ON y.id = e.school_year_id "
            "WHERE e.is_active = 1 AND s.region_code = ? AND y.code = ? "
            "GROUP BY e.grade_code ORDER BY e.grade_code",
            (county, year),
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("county,username", [(COUNTY_A, "analyst"), (COUNTY_B, "analyst_b")])
@pytest.mark.parametrize("year", ["2025-2026", YEAR])
def test_enrollment_by_grade_reconciles_with_the_registry(world, county, username, year) -> None:
    """The bars of 各年级在校生数 equal an independent count on the operational database."""
    with as_user(world, username):
        out = enrollment.update(dict(OWN, region=county, school_year=year))
    fig = _charts(out, enrollment.PAGE)["enrollment_by_grade"][0]
    drawn: dict[str, float] = {}
    for trace in fig.data:
        for x, y in zip(trace.x, trace.y, strict=True):
            if y is not None:
                drawn[x] = drawn.get(x, 0) + y
    expected = _enrolled_by_grade(world, county, year)
    assert [int(v) for v in drawn.values()] == [n for _, n in expected]
    assert len(drawn) == len(expected)


def test_stage_filter_changes_the_figure(world) -> None:
    with as_user(world, "analyst"):
        everything = enrollment.update(OWN)
        junior = enrollment.update(dict(OWN, stage="junior"))
    all_fig = _charts(everything, enrollment.PAGE)["enrollment_by_grade"][0]
    junior_fig = _charts(junior, enrollment.PAGE)["enrollment_by_grade"][0]
    assert len(junior_fig.data) == 1 and set(junior_fig.data[0].x) == {"初一", "初二", "初三"}
    assert len(all_fig.data) == 3


def test_school_leader_sees_their_school(world) -> None:
    school = world.schools[COUNTY_A][0]
    with as_user(world, "principal"):
        sel = layout.resolve_filters(YEAR, "64", "6403", COUNTY_A, school, "all")
        assert sel["school"] == school
        out = overview.update(sel)
        with pytest.raises(Forbidden):
            overview.update(dict(sel, school=world.schools[COUNTY_A][1]))
        with pytest.raises(Forbidden):
            layout.resolve_filters(YEAR, "64", "6403", COUNTY_A, world.schools[COUNTY_B][0], "all")
    subtitle = _charts(out, overview.PAGE)["overview_by_stage"][2]
    assert "实验小学" in subtitle or "中学" in subtitle  # the school's name, not the county's


def test_drilldown_for_a_provincial_analyst(world) -> None:
    with as_user(world, "prov_analyst"):
        options, value, disabled = layout.cascade_prefecture("64")
        assert not disabled and value is None
        assert {o["value"] for o in options} == {"6403", "6405"}
        counties, _, _ = layout.cascade_county("6403")
        assert [o["value"] for o in counties] == [COUNTY_A]
        schools, _, _ = layout.cascade_school(COUNTY_A)
        assert sorted(o["value"] for o in schools) == sorted(world.schools[COUNTY_A])
        assert layout.cascade_school(None) == ([], None, True)
        with pytest.raises(Forbidden):
            layout.cascade_prefecture("11")


def test_drilldown_is_fixed_for_a_county_analyst(world) -> None:
    from dashboards.context import analytics_scope

    with as_user(world, "analyst"):
        scope = analytics_scope()
        assert layout.fixed_codes(scope) == {
            "province": "64",
            "prefecture": "6403",
            "county": COUNTY_A,
            "school": None,
        }
        options, value, disabled = layout._dropdown_state(scope, "county", "6403", True)
        assert (
            value == COUNTY_A and disabled and options == [{"label": "利通区", "value": COUNTY_A}]
        )


def test_resolve_filters(world) -> None:
    with as_user(world, "prov_analyst"):
        assert layout.resolve_filters(YEAR, "64", None, None, None, "all") == {
            "school_year": YEAR,
            "region": "64",
            "school": None,
            "stage": None,
        }
        with pytest.raises(BadRequest):
            layout.resolve_filters("2026/2027", "64", None, None, None, "all")
        with pytest.raises(Forbidden):
            layout.resolve_filters(YEAR, "11", None, None, None, "all")


def _csv(chart: str, filters: dict[str, Any]) -> Any:
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def run() -> Any:
        prop = json.dumps({"chart": chart, "type": "xj-csv"}, separators=(",", ":")) + ".n_clicks"
        context_value.set(
            AttributeDict(
                triggered_inputs=[{"prop_id": prop, "value": 1}],
                args_grouping=[],
            )
        )
        return layout.download_csv(1, filters)

    return copy_context().run(run)


def test_csv_download_through_dash_ctx(world) -> None:
    with as_user(world, "analyst"):
        data = _csv("enrollment_by_grade", OWN)
    assert data["filename"] == f"enrollment_by_grade_{YEAR}_{COUNTY_A}.csv"
    lines = data["content"].lstrip("\ufeff").splitlines()
    assert lines[0].startswith("各年级在校生数")
    assert lines[1].startswith("school_year,region_code,region_name,stage,grade_code")
    counts = {row.split(",")[4]: int(row.split(",")[-1]) for row in lines[2:]}
    assert sorted(counts.items()) == [(c, n) for c, n in _enrolled_by_grade(world, COUNTY_A, YEAR)]
    with as_user(world, "analyst"), pytest.raises(BadRequest):
        _csv("no_such_chart", OWN)


def test_progression_report_link_follows_the_filters(world) -> None:
    with as_user(world, "analyst"):
        out = progression.update(OWN)
    assert out[0] == f"/dashboards/report.pdf?region={COUNTY_A}&school_year={YEAR}&lang=zh"
    sankey = _charts(out, progression.PAGE)["progression_flows"][0]
    assert sankey.data and sankey.data[0].type == "sankey"
    assert any("小学" in label for label in sankey.data[0].node.label)


def test_navigation_marks_the_current_page(world) -> None:
    with world.app.test_request_context("/dashboards/"):
        classes = layout.nav_classes("/dashboards/enrollment")
        assert classes[1] == "xj-nav-link active" and classes[0] == "xj-nav-link"
        assert classes[-1] == "/dashboards/lang/en?next=/dashboards/enrollment"
        assert layout.nav_classes("/dashboards/refresh")[-2] == {"visibility": "hidden"}


def test_refresh_callbacks_need_the_permission(world) -> None:
    with as_user(world, "analyst"), pytest.raises(Forbidden):
        refresh.start(1)
    with as_user(world, "analyst"), pytest.raises(Forbidden):
        refresh.poll(1, None)
    with as_user(world, "officer"):
        view, poll_disabled, start_disabled, _msg, _asof = refresh.poll(1, None)
    assert poll_disabled and not start_disabled


def test_layout_function_tolerates_no_request_and_no_user(world) -> None:
    with world.app.app_context():
        shell = layout.serve_layout()  # Dash calls it at assignment and first request
    assert "xj-filters" in str(shell.to_plotly_json())
    with world.app.test_request_context("/dashboards/"):
        g.user = None
        assert layout.serve_layout() is not None
