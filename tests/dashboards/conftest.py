"""Fixtures for the dashboards: one seeded SQLite registry (two counties of Ningxia in two
prefectures, plus Beijing), its warehouse snapshot, accounts for every kind of viewer, and
helpers to sign in and to call Dash endpoints like the renderer does."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_TODAY

PASSWORD = "Dash-Test-2026!"
KEY = "dashboards-test-pseudonym-key-0123456789abcdef"
# seed 5 over Ningxia (64) and Beijing (11) with 6,000 students gives the counties 640302
# 利通区 (吴忠市 6403), 640522 海原县 (中卫市 6405) and 110111 房山区.
SEED = {"students": 6000, "years": 3, "seed": 5, "provinces": ("64", "11")}
COUNTY_A = "640302"
COUNTY_B = "640522"


@dataclass
class World:
    folder: Path
    url: str
    warehouse: Path
    app: Any = None
    users: dict[str, int] = field(default_factory=dict)
    schools: dict[str, list[str]] = field(default_factory=dict)  # county -> school codes


ACCOUNTS = [
    # username, role, scope
    ("admin", "Admin", {}),
    ("officer", "BureauOfficer", {"region": "64"}),
    ("analyst", "BureauAnalyst", {"region": COUNTY_A}),
    ("analyst_b", "BureauAnalyst", {"region": COUNTY_B}),
    ("prov_analyst", "BureauAnalyst", {"region": "64"}),
    ("leader", "Leadership", {}),
    ("principal", "SchoolLeader", {"school": None}),  # a school of county A, set below
    ("teacher", "Teacher", {"school": None}),
]


def build_world(folder: Path) -> World:
    """Initialise, seed, snapshot and create the accounts (about 15 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'xueji.db'}"
    os.environ["XUEJI_DATA_DIR"] = str(folder)
    os.environ.pop("XUEJI_WAREHOUSE_DIR", None)
    from admin import create_app

    app = create_app(
        SQLALCHEMY_DATABASE_URI=url,
        TESTING=True,
        SECRET_KEY="dashboards-test-secret-" + "y" * 32,
        XUEJI_DATA_DIR=str(folder),
        XUEJI_WAREHOUSE_DIR=str(folder / "warehouse"),
    )
    from sqlalchemy import select

    from admin.extensions import db
    from admin.models import School
    from admin.services.accounts import create_account
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    world = World(folder=folder, url=url, warehouse=folder / "warehouse", app=app)
    with app.app_context():
        initialize()
        seed_database(db.engine, SeedOptions(today=SEED_TODAY, **SEED))  # type: ignore[arg-type]
        for school in db.session.scalars(select(School).order_by(School.code)):
            world.schools.setdefault(school.region_code, []).append(school.code)
        assert COUNTY_A in world.schools and COUNTY_B in world.schools, world.schools.keys()
        school_a = world.schools[COUNTY_A][0]
        sm = app.appbuilder.sm
        for username, role, scope in ACCOUNTS:
            if "school" in scope:
                scope = {"school": school_a}
            create_account(username=username, password=PASSWORD, role=role, **scope)
            world.users[username] = sm.find_user(username=username).id
        db.session.remove()
    from etl import pipeline
    from etl.progress import NullProgress

    pipeline.run(url, world.warehouse, pseudonym_key=KEY, progress=NullProgress(), mode="full")
    return world


def copy_registry(world: World, target: Path) -> None:
    """A consistent copy of the SQLite registry (its WAL included) and of the warehouse."""
    import shutil
    import sqlite3

    target.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(world.folder / "xueji.db")
    dst = sqlite3.connect(target / "xueji.db")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    shutil.copytree(world.warehouse, target / "warehouse")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("dashboards"))
    yield w
    from admin.extensions import db

    with w.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(world: World) -> Any:
    return world.app


def sign_in(client: Any, world: World, username: str) -> Any:
    """Session injection (the login form is tested elsewhere)."""
    with client.session_transaction() as s:
        s["_user_id"] = str(world.users[username])
        s["_fresh"] = True
    return client


@pytest.fixture
def client_for(world: World):
    def make(username: str | None) -> Any:
        client = world.app.test_client()
        if username:
            sign_in(client, world, username)
        return client

    return make


# --- speaking Dash's wire protocol --------------------------------------------------------------


def csrf_header(client: Any) -> dict[str, str]:
    """Load the page like a browser (sets the _csrf_token cookie) and return the header the
    renderer would send."""
    response = client.get("/dashboards/")
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    cookie = client.get_cookie("_csrf_token", path="/dashboards/")
    assert cookie is not None, "no _csrf_token cookie"
    return {"X-CSRFToken": cookie.value}


def callback_payload(
    output: str,
    outputs: Any,
    inputs: list[dict[str, Any]],
    state: list[dict[str, Any]] | None = None,
    changed: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed or [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def post_callback(client: Any, payload: dict[str, Any], headers: dict[str, str] | None) -> Any:
    return client.post(
        "/dashboards/_dash-update-component",
        data=json.dumps(payload),
        content_type="application/json",
        headers=headers or {},
    )


def page_callback_payload(app: Any, prefix: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The request the renderer sends when the filter store changes on a page: `prefix` picks
    the page's callback by its first output (e.g. "..graph-enrollment_by_grade.figure")."""
    dash_app = app.extensions["xueji_dashboards"].dash_app
    key = next(k for k in dash_app.callback_map if k.startswith(prefix))
    spec = dash_app.callback_map[key]
    outputs = []
    for part in key.strip(".").split("..."):
        ident, _, prop = part.rpartition(".")
        outputs.append(
            {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop}
        )
    del spec
    return callback_payload(
        key,
        outputs,
        [{"id": "xj-filters", "property": "data", "value": filters}],
    )


def figure_numbers(response_json: dict[str, Any], graph_id: str) -> Any:
    return response_json["response"][graph_id]["figure"]
