"""A county analyst never receives another county's figures: crafted callback requests are
refused with 400/403 (never data), the legitimate ones return their county only, and small
cells are suppressed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dashboards.conftest import (
    COUNTY_A,
    COUNTY_B,
    callback_payload,
    csrf_header,
    page_callback_payload,
    post_callback,
)

YEAR = "2026-2027"
OWN = {"school_year": YEAR, "region": COUNTY_A, "school": None, "stage": None}
# Every page's main callback, by the first output it writes.
PAGE_CALLBACKS = [
    "..overview-kpis.children",
    "..graph-enrollment_by_grade.figure",
    "..graph-attendance_rate.figure",
    "..graph-score_distribution.figure",
    "..graph-status_changes_by_month.figure",
    "..progression-report-link.href",
    "..quality-checks.children",
]


@pytest.fixture
def analyst(client_for) -> tuple[Any, dict[str, str]]:
    client = client_for("analyst")
    return client, csrf_header(client)


def school_names(world, county: str) -> list[str]:
    import sqlite3

    con = sqlite3.connect(world.folder / "xueji.db")
    try:
        return [
            r[0] for r in con.execute("SELECT name FROM school WHERE region_code = ?", (county,))
        ]
    finally:
        con.close()


def response_text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


@pytest.mark.parametrize("prefix", PAGE_CALLBACKS)
def test_own_county_answers_with_own_data_only(world, app, analyst, prefix: str) -> None:
    client, headers = analyst
    response = post_callback(client, page_callback_payload(app, prefix, OWN), headers)
    assert response.status_code == 200, response.data[:300]
    text = response_text(response)
    for name in school_names(world, COUNTY_B) + school_names(world, "110111"):
        assert name not in text
    for county in ("海原县", "中卫市", "房山区", "北京市"):
        assert county not in text


CRAFTED_403 = [
    {"region": COUNTY_B},  # another county
    {"region": "64"},  # the province: wider than the scope
    {"region": "6403"},  # the prefecture of their own county: wider still
    {"region": "11"},  # another province
    {"region": COUNTY_A, "school": "SCHOOL_B"},  # a school of another county
]
CRAFTED_400 = [
    {"school_year": "2026-2028"},  # not two consecutive years
    {"school_year": "2026"},
    {"school_year": 2026},
    {"school_year": "2026-2027'; DROP TABLE dim_school; --"},
    {"stage": "kindergarten"},
    {"region": "64030"},  # odd length
    {"region": "6403xx"},
    {"region": ["640302"]},
    {"school": "12345"},
    {"metric": "enrollment_by_grade"},  # unknown filter key
]


def _craft(world, change: dict[str, Any]) -> dict[str, Any]:
    filters = dict(OWN)
    filters.update(change)
    if filters.get("school") == "SCHOOL_B":
        filters["school"] = world.schools[COUNTY_B][0]
    return filters


@pytest.mark.parametrize(
    "prefix", ["..graph-enrollment_by_grade.figure", "..overview-kpis.children"]
)
@pytest.mark.parametrize("change", CRAFTED_403, ids=lambda c: json.dumps(c))
def test_out_of_scope_filters_get_403(world, app, analyst, prefix, change) -> None:
    client, headers = analyst
    payload = page_callback_payload(app, prefix, _craft(world, change))
    response = post_callback(client, payload, headers)
    assert response.status_code == 403
    assert b"figure" not in response.data and b"response" not in response.data


@pytest.mark.parametrize("change", CRAFTED_400, ids=lambda c: json.dumps(c))
def test_malformed_filters_get_400(world, app, analyst, change) -> None:
    client, headers = analyst
    payload = page_callback_payload(
        app, "..graph-enrollment_by_grade.figure", _craft(world, change)
    )
    response = post_callback(client, payload, headers)
    assert response.status_code == 400
    assert b"figure" not in response.data


@pytest.mark.parametrize("value", ["not a dict", ["x"], 7])
def test_filter_store_of_the_wrong_type_gets_400(app, analyst, value) -> None:
    client, headers = analyst
    payload = page_callback_payload(app, "..graph-enrollment_by_grade.figure", OWN)
    payload["inputs"][0]["value"] = value
    assert post_callback(client, payload, headers).status_code == 400


def _filter_inputs(**values: Any) -> list[dict[str, Any]]:
    ids = ["f-year", "f-province", "f-prefecture", "f-county", "f-school", "f-stage"]
    keys = ["year", "province", "prefecture", "county", "school", "stage"]
    return [
        {"id": i, "property": "value", "value": values.get(k)}
        for i, k in zip(ids, keys, strict=True)
    ]


@pytest.mark.parametrize(
    "values,status",
    [
        ({"year": YEAR, "province": "64", "prefecture": "6405", "county": COUNTY_B}, 403),
        ({"year": YEAR, "province": "64"}, 403),
        ({"year": YEAR, "province": "11"}, 403),
        ({"year": "20262027", "county": COUNTY_A}, 400),
        ({"year": YEAR, "county": COUNTY_A, "stage": "college"}, 400),
    ],
)
def test_crafted_dropdown_values_are_refused(analyst, values, status) -> None:
    client, headers = analyst
    payload = callback_payload(
        "xj-filters.data", {"id": "xj-filters", "property": "data"}, _filter_inputs(**values)
    )
    assert post_callback(client, payload, headers).status_code == status


def test_crafted_drilldown_options_are_refused(analyst) -> None:
    client, headers = analyst
    outputs = [{"id": "f-county", "property": p} for p in ("options", "value", "disabled")]
    payload = callback_payload(
        "..f-county.options...f-county.value...f-county.disabled..",
        outputs,
        [{"id": "f-prefecture", "property": "value", "value": "6405"}],
    )
    assert post_callback(client, payload, headers).status_code == 403


def _csv_payload(chart: Any, filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "output": '{"chart":["MATCH"],"type":"xj-dl"}.data',
        "outputs": {"id": {"type": "xj-dl", "chart": chart}, "property": "data"},
        "inputs": [{"id": {"type": "xj-csv", "chart": chart}, "property": "n_clicks", "value": 1}],
        "state": [{"id": "xj-filters", "property": "data", "value": filters}],
        "changedPropIds": [
            json.dumps({"chart": chart, "type": "xj-csv"}, separators=(",", ":")) + ".n_clicks"
        ],
    }


def test_csv_export_of_own_county(world, analyst) -> None:
    client, headers = analyst
    response = post_callback(client, _csv_payload("enrollment_by_grade", OWN), headers)
    assert response.status_code == 200, response.data[:300]
    text = response_text(response)
    assert "grade_code" in text and COUNTY_A in text and COUNTY_B not in text


@pytest.mark.parametrize("chart", ["no_such_chart", "../etc/passwd", 5, {"x": 1}])
def test_csv_export_of_unknown_chart_gets_400(analyst, chart) -> None:
    client, headers = analyst
    response = post_callback(client, _csv_payload(chart, OWN), headers)
    assert response.status_code == 400


def test_csv_export_of_another_county_gets_403(world, analyst) -> None:
    client, headers = analyst
    filters = dict(OWN, region=COUNTY_B)
    response = post_callback(client, _csv_payload("enrollment_by_grade", filters), headers)
    assert response.status_code == 403


def test_report_pdf_outside_the_scope(client_for) -> None:
    client = client_for("analyst")
    assert client.get(f"/dashboards/report.pdf?region={COUNTY_B}").status_code == 403
    assert client.get("/dashboards/report.pdf?region=64").status_code == 403
    assert client.get("/dashboards/report.pdf?region=64x").status_code == 400
    assert (
        client.get(f"/dashboards/report.pdf?region={COUNTY_A}&school_year=2027").status_code == 400
    )


def test_the_other_county_sees_other_numbers(app, client_for) -> None:
    figures = {}
    for username, county in (("analyst", COUNTY_A), ("analyst_b", COUNTY_B)):
        client = client_for(username)
        headers = csrf_header(client)
        filters = dict(OWN, region=county)
        payload = page_callback_payload(app, "..graph-enrollment_by_grade.figure", filters)
        response = post_callback(client, payload, headers)
        assert response.status_code == 200
        figures[username] = response.get_json()["response"]["graph-enrollment_by_grade"]
        # and each is refused the other's county
        other = COUNTY_B if county == COUNTY_A else COUNTY_A
        crafted = page_callback_payload(
            app, "..graph-enrollment_by_grade.figure", dict(OWN, region=other)
        )
        assert post_callback(client, crafted, headers).status_code == 403
    assert figures["analyst"] != figures["analyst_b"]


def test_small_cells_are_suppressed(world, app, analyst) -> None:
    """Per school, some ethnic minorities, left-behind counts … are 1-4 students: the UI
    shows "<5" (or nothing) and says how many cells were hidden; never the count."""
    from flask import g

    from dashboards.data import fetch, selection_from

    with app.test_request_context("/dashboards/"):
        g.user = app.appbuilder.sm.get_user_by_id(world.users["analyst"])
        sel = selection_from(YEAR, COUNTY_A, None, None)
        result = fetch("enrollment_by_ethnicity_detail", sel, level="school")
    students = [row[result.columns.index("students")] for row in result.rows]
    assert "<5" in students
    assert not [v for v in students if isinstance(v, int) and 0 < v < 5]
    assert result.suppressed_cells > 0

    client, headers = analyst
    payload = page_callback_payload(
        app, "..graph-enrollment_by_grade.figure", dict(OWN, school=None)
    )
    response = post_callback(client, payload, headers)
    body = response.get_json()["response"]
    note = json.dumps(body['{"chart":"migrant_left_behind","type":"xj-note"}'], ensure_ascii=False)
    assert "<5" in note or "少于 5 人" in note
