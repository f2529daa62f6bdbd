"""The dashboards sit behind the FAB login and a FAB permission, with CSRF kept on."""

from __future__ import annotations

import json

import pytest

from tests.dashboards.conftest import (
    callback_payload,
    csrf_header,
    page_callback_payload,
    post_callback,
)

FILTERS_A = {"school_year": "2026-2027", "region": "640302", "school": None, "stage": None}


def layout_text(client) -> str:
    response = client.get("/dashboards/_dash-layout")
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_anonymous_page_redirects_to_login(client_for) -> None:
    response = client_for(None).get("/dashboards/enrollment")
    assert response.status_code == 302
    assert "/login/" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/dashboards/_dash-layout"),
        ("GET", "/dashboards/_dash-dependencies"),
        ("POST", "/dashboards/_dash-update-component"),
        ("GET", "/dashboards/assets/10-xueji.css"),
    ],
)
def test_anonymous_machine_requests_get_401(client_for, method: str, path: str) -> None:
    response = client_for(None).open(path, method=method, json={})
    assert response.status_code == 401


def test_user_without_the_permission_gets_403(client_for) -> None:
    client = client_for("teacher")
    assert client.get("/dashboards/").status_code == 403
    assert client.get("/dashboards/_dash-layout").status_code == 403
    assert client.get("/dashboards/report.pdf").status_code == 403
    assert client.get("/analytics/dashboards/").status_code == 403  # the FAB menu entry


@pytest.mark.parametrize("username", ["analyst", "leader", "principal", "officer", "admin"])
def test_statistics_roles_get_the_dashboards(client_for, username: str) -> None:
    client = client_for(username)
    assert client.get("/dashboards/").status_code == 200
    layout = client.get("/dashboards/_dash-layout")
    assert layout.status_code == 200
    assert "xj-filters" in layout.get_data(as_text=True)
    menu = client.get("/analytics/dashboards/")
    assert menu.status_code == 302 and menu.headers["Location"].endswith("/dashboards/")


def test_layout_shows_the_users_scope_only(client_for) -> None:
    text = layout_text(client_for("analyst"))
    assert "利通区" in text  # their county, fixed in the drill-down
    assert "海原县" not in text and "房山区" not in text  # other counties are not offered
    assert "640302" in text


def test_refresh_is_for_admin_and_bureau_officers(client_for) -> None:
    assert client_for("analyst").get("/dashboards/refresh").status_code == 403
    assert client_for("leader").get("/dashboards/refresh").status_code == 403
    assert client_for("officer").get("/dashboards/refresh").status_code == 200
    assert client_for("admin").get("/dashboards/refresh").status_code == 200
    assert client_for("officer").get("/analytics/snapshot/").status_code == 302
    assert client_for("analyst").get("/analytics/snapshot/").status_code == 403


def test_callback_without_csrf_token_is_refused(app, client_for) -> None:
    client = client_for("analyst")
    assert client.get("/dashboards/").status_code == 200  # sets the cookie
    payload = page_callback_payload(app, "..graph-enrollment_by_grade", FILTERS_A)
    response = post_callback(client, payload, headers=None)
    assert response.status_code == 400
    assert b"figure" not in response.data


def test_callback_with_csrf_token_answers(app, client_for) -> None:
    client = client_for("analyst")
    headers = csrf_header(client)
    payload = page_callback_payload(app, "..graph-enrollment_by_grade", FILTERS_A)
    response = post_callback(client, payload, headers)
    assert response.status_code == 200, response.data[:300]
    assert "graph-enrollment_by_grade" in response.get_json()["response"]


def test_csrf_token_of_another_session_is_refused(app, client_for) -> None:
    other = client_for("analyst")
    headers = csrf_header(other)
    client = client_for("analyst")
    client.get("/dashboards/")
    payload = page_callback_payload(app, "..graph-enrollment_by_grade", FILTERS_A)
    assert post_callback(client, payload, headers).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({"output": "no-such-component.children", "inputs": [], "state": []}),
        json.dumps({"output": 7, "inputs": [], "state": []}),
        json.dumps({"output": "xj-filters.data", "inputs": "x"}),
    ],
)
def test_malformed_callback_requests_get_400(client_for, body: str) -> None:
    client = client_for("analyst")
    headers = csrf_header(client)
    response = client.post(
        "/dashboards/_dash-update-component",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400


def test_language_follows_the_fab_session(client_for) -> None:
    client = client_for("analyst")
    zh = layout_text(client)
    assert "学籍统计分析" in zh and "在校生" in zh
    response = client.get("/dashboards/lang/en?next=/dashboards/enrollment")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboards/enrollment")
    en = layout_text(client)
    assert "XueJi Statistics" in en and "Enrollment" in en and "学籍统计分析" not in en
    # only dashboard addresses are followed after switching
    assert (
        client.get("/dashboards/lang/zh?next=https://evil.example/")
        .headers["Location"]
        .endswith("/dashboards/")
    )


def test_filter_store_callback_is_csrf_protected_and_scoped(client_for) -> None:
    client = client_for("analyst")
    headers = csrf_header(client)
    inputs = [
        {"id": "f-year", "property": "value", "value": "2026-2027"},
        {"id": "f-province", "property": "value", "value": "64"},
        {"id": "f-prefecture", "property": "value", "value": "6403"},
        {"id": "f-county", "property": "value", "value": "640302"},
        {"id": "f-school", "property": "value", "value": None},
        {"id": "f-stage", "property": "value", "value": "junior"},
    ]
    payload = callback_payload("xj-filters.data", {"id": "xj-filters", "property": "data"}, inputs)
    response = post_callback(client, payload, headers)
    assert response.status_code == 200
    data = response.get_json()["response"]["xj-filters"]["data"]
    assert data == {
        "school_year": "2026-2027",
        "region": "640302",
        "school": None,
        "stage": "junior",
    }
    assert post_callback(client_for("analyst"), payload, None).status_code == 400


def test_no_snapshot_yet_is_a_designed_state(world, tmp_path, monkeypatch) -> None:
    """Before the first ETL run the dashboards say so, and nothing fails."""
    import sqlite3

    from tests.dashboards.conftest import sign_in

    src = sqlite3.connect(world.folder / "xueji.db")
    dst = sqlite3.connect(tmp_path / "xueji.db")
    src.backup(dst)
    src.close()
    dst.close()
    monkeypatch.setenv("XUEJI_DATA_DIR", str(tmp_path))
    from admin import create_app

    app = create_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'xueji.db'}",
        TESTING=True,
        SECRET_KEY="dashboards-test-secret-" + "y" * 32,
        XUEJI_DATA_DIR=str(tmp_path),
        XUEJI_WAREHOUSE_DIR=str(tmp_path / "empty-warehouse"),
    )
    client = sign_in(app.test_client(), world, "officer")
    text = layout_text(client)
    assert "尚无数据仓库快照" in text
    headers = csrf_header(client)
    routing = next(
        k for k in app.extensions["xueji_dashboards"].dash_app.callback_map if "_pages_content" in k
    )
    payload = {
        "output": routing,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/dashboards/enrollment"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    page = post_callback(client, payload, headers)
    assert page.status_code == 200
    body = json.dumps(page.get_json(), ensure_ascii=False)
    assert "尚无数据仓库快照" in body and "生成快照" in body  # with the way out, for an officer
    charts = post_callback(
        client,
        page_callback_payload(
            app, "..graph-enrollment_by_grade.figure", FILTERS_A | {"region": "64"}
        ),
        headers,
    )
    assert charts.status_code == 200
    assert client.get("/dashboards/report.pdf?region=64").status_code == 404
    from admin.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _menu(client) -> str:
    import re

    html = client.get("/studentview/list/", follow_redirects=True).get_data(as_text=True)
    html = client.get("/").get_data(as_text=True) if "navbar" not in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_admin_menu_entries(client_for) -> None:
    analyst = _menu(client_for("analyst"))
    assert "统计分析" in analyst and "数据看板" in analyst and "数据快照更新" not in analyst
    officer = _menu(client_for("officer"))
    assert "数据看板" in officer and "数据快照更新" in officer
    assert "数据看板" not in _menu(client_for("teacher"))
