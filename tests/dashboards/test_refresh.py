"""'Refresh snapshot' (Admin, BureauOfficer): `xueji etl` in the background, one at a time,
with its JSON progress lines shown while it runs; a new snapshot is published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboards import refresh as runner
from tests.dashboards.conftest import KEY, copy_registry, csrf_header, post_callback, sign_in

START = "..refresh-msg.children...refresh-poll.disabled@{h}...refresh-start.disabled@{h}.."


@pytest.fixture
def copy_app(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An app on a private copy of the registry and warehouse (the refresh publishes)."""
    copy_registry(world, tmp_path)
    monkeypatch.setenv("XUEJI_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("XUEJI_DATA_DIR", str(tmp_path))
    from admin import create_app

    app = create_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'xueji.db'}",
        TESTING=True,
        SECRET_KEY="dashboards-test-secret-" + "y" * 32,
        XUEJI_DATA_DIR=str(tmp_path),
        XUEJI_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
    )
    yield app, tmp_path
    runner.wait(tmp_path, timeout=60)
    from admin.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _start_payload(app: Any) -> dict[str, Any]:
    dash_app = app.extensions["xueji_dashboards"].dash_app
    key = next(k for k in dash_app.callback_map if k.startswith("..refresh-msg.children"))
    return {
        "output": key,
        "outputs": [
            {"id": "refresh-msg", "property": "children"},
            {"id": "refresh-poll", "property": "disabled"},
            {"id": "refresh-start", "property": "disabled"},
        ],
        "inputs": [{"id": "refresh-start", "property": "n_clicks", "value": 1}],
        "state": [],
        "changedPropIds": ["refresh-start.n_clicks"],
    }


def _poll_payload() -> dict[str, Any]:
    return {
        "output": "..refresh-status.children...refresh-poll.disabled...refresh-start.disabled"
        "...refresh-msg.children@{}...xj-asof.children@{}..",
        "outputs": [],
        "inputs": [{"id": "refresh-poll", "property": "n_intervals", "value": 1}],
        "state": [{"id": "refresh-msg", "property": "children", "value": None}],
        "changedPropIds": ["refresh-poll.n_intervals"],
    }


def test_refresh_runs_the_etl_in_the_background(world, copy_app) -> None:
    from etl.store import SnapshotStore

    app, folder = copy_app
    store = SnapshotStore(folder / "warehouse")
    before = store.current_name()

    analyst = app.test_client()
    sign_in(analyst, world, "analyst")
    analyst_headers = csrf_header(analyst)
    assert post_callback(analyst, _start_payload(app), analyst_headers).status_code == 403

    officer = app.test_client()
    sign_in(officer, world, "officer")
    headers = csrf_header(officer)
    response = post_callback(officer, _start_payload(app), headers)
    assert response.status_code == 200, response.data[:300]
    assert "正在更新" in json.dumps(response.get_json(), ensure_ascii=False)
    # a second click while it runs starts nothing
    again = post_callback(officer, _start_payload(app), headers)
    assert "已有更新任务在运行" in json.dumps(again.get_json(), ensure_ascii=False)

    status = runner.wait(folder, timeout=90)
    assert status.state == "done", (status.state, status.error)
    assert status.exit_code == 0 and status.started_by == "officer"
    assert len(status.steps) > 20 and status.percent == 100
    assert {s["step"] for s in status.steps} >= {"extract", "build", "check", "publish"}
    assert store.current_name() != before

    # the page shows the finished run and the new snapshot's time
    dash_app = app.extensions["xueji_dashboards"].dash_app
    poll_key = next(k for k in dash_app.callback_map if k.startswith("..refresh-status.children"))
    payload = _poll_payload()
    payload["output"] = poll_key
    payload["outputs"] = [
        {"id": "refresh-status", "property": "children"},
        {"id": "refresh-poll", "property": "disabled"},
        {"id": "refresh-start", "property": "disabled"},
        {"id": "refresh-msg", "property": "children"},
        {"id": "xj-asof", "property": "children"},
    ]
    shown = post_callback(officer, payload, headers)
    assert shown.status_code == 200
    text = json.dumps(shown.get_json(), ensure_ascii=False)
    new_id = store.current_id()
    assert "已完成" in text and new_id in text


def test_status_of_a_failed_run(tmp_path: Path) -> None:
    (tmp_path / runner.LOG_FILE).write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"ts": "2026-11-29T00:00:00+00:00", "event": "refresh.start", "user": "admin"},
                {"event": "etl.step", "step": "connect", "seconds": 0.1},
                {"event": "refresh.output", "text": "xueji etl: error: source unreachable"},
                {"event": "refresh.exit", "rc": 4},
            )
        )
    )
    status = runner.status(tmp_path)
    assert status.state == "failed" and status.exit_code == 4
    assert status.error == "xueji etl: error: source unreachable"
    assert runner.status(tmp_path / "nothing").state == "idle"
