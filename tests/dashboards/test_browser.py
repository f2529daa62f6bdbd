"""In Chromium (Debian's, through Playwright): sign in on the FAB form, open every dashboard,
change filters and see the figure change; screenshots under the test's tmp folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.dashboards.conftest import KEY, PASSWORD, copy_registry
from tests.e2e.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
PAGES = [  # (navigation id, URL path, a chart of the page)
    ("overview", "", "overview_trend"),
    ("enrollment", "enrollment", "enrollment_by_grade"),
    ("attendance", "attendance", "attendance_rate"),
    ("grades", "grades", "score_distribution"),
    ("status", "status-changes", "dropout_rate"),
    ("progression", "progression", "progression_flows"),
    ("quality", "data-quality", "data_quality_issues"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dash_server(world, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`xueji serve` (gunicorn) on a copy of the dashboards' registry and warehouse."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    folder = tmp_path_factory.mktemp("dash-live")
    copy_registry(world, folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    env.update(
        {
            "XUEJI_DATA_DIR": str(folder),
            "XUEJI_CAPTCHA_ENABLED": "0",  # the captcha is tested in tests/security
            "XUEJI_SECRET_KEY": "dash-e2e-" + "k" * 40,
            "XUEJI_PSEUDONYM_KEY": KEY,
            "PYTHONPATH": str(ROOT),
        }
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "admin.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("server did not start: " + (server.stdout.read() if server.stdout else ""))
    yield base
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _figure(page: Any, chart: str) -> dict[str, Any]:
    """The data Plotly drew in the chart's div (after the callback answered)."""
    return page.evaluate(
        """(id) => {
            const host = document.getElementById('graph-' + id);
            const gd = host && host.querySelector('.js-plotly-plot');
            if (!gd || !gd.data) return null;
            return {data: gd.data.map(t => ({name: t.name, x: t.x, y: t.y, type: t.type})),
                    annotations: (gd.layout.annotations || []).map(a => a.text)};
        }""",
        chart,
    )


def _sub(page: Any, chart: str) -> str:
    ident = json.dumps({"chart": chart, "type": "xj-sub"}, separators=(",", ":"))
    return str(page.locator(f"[id='{ident}']").inner_text())


def _wait_drawn(
    page: Any, chart: str, different_from: Any = None, context: str = "", timeout: float = 20
) -> Any:
    """Wait until the chart is drawn (and differs from a previous drawing, and its context
    line names `context`)."""
    deadline = time.monotonic() + timeout
    title = f"[id='{json.dumps({'chart': chart, 'type': 'xj-title'}, separators=(',', ':'))}']"
    fig = None
    while time.monotonic() < deadline:
        fig = _figure(page, chart)
        ready = page.locator(title).inner_text() not in ("", "加载中…", "Loading…")
        if fig is not None and ready and (fig["data"] or fig["annotations"]):
            changed = different_from is None or fig != different_from
            if changed and context in _sub(page, chart):
                return fig
        time.sleep(0.1)
    raise AssertionError(f"{chart} was not (re)drawn: {fig}")


def _choose(page: Any, dropdown: str, option: str) -> None:
    page.click(f"#{dropdown}")
    page.get_by_role("option", name=option, exact=True).click()


def test_every_page_and_filters_in_chromium(browser, dash_server: str, shots: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}")
            if "/dashboards/" in r.url and r.status >= 400
            else None
        ),
    )
    try:
        page.goto(dash_server + "/dashboards/enrollment")
        assert "/login/" in page.url  # the FAB login first
        page.fill("input[name=username]", "prov_analyst")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url("**/dashboards/enrollment")

        # every page, through the navigation (Dash pages: no reload)
        for nav, path, chart in PAGES:
            page.click(f"#nav-{nav}")
            page.wait_for_url(f"**/dashboards/{path}")
            _wait_drawn(page, chart)
            assert "active" in (page.get_attribute(f"#nav-{nav}", "class") or "")
            assert "数据截至" in page.inner_text("#xj-asof")
            page.screenshot(path=str(shots / f"{path or 'overview'}.png"), full_page=True)

        # Enrollment: another school year redraws the grade chart …
        page.click("#nav-enrollment")
        before = _wait_drawn(page, "enrollment_by_grade")
        _choose(page, "f-year", "2024-2025")
        after_year = _wait_drawn(
            page, "enrollment_by_grade", different_from=before, context="2024-2025"
        )
        # every chart downloads as CSV (server, scoped) and PNG (Plotly, in the browser)
        with page.expect_download() as csv_download:
            page.click('[id=\'{"chart":"enrollment_by_grade","type":"xj-csv"}\']')
        csv_file = csv_download.value
        assert csv_file.suggested_filename == "enrollment_by_grade_2024-2025_64.csv"
        content = Path(csv_file.path()).read_text(encoding="utf-8-sig")
        assert content.startswith("各年级在校生数") and "grade_code" in content
        with page.expect_download() as png_download:
            page.click('[id=\'{"chart":"enrollment_by_grade","type":"xj-png"}\']')
        png_file = png_download.value
        assert png_file.suggested_filename == "enrollment_by_grade.png"
        png = Path(png_file.path()).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        (shots / "enrollment_by_grade-download.png").write_bytes(png)

        # … and drilling down to a prefecture, then a county, narrows it
        _choose(page, "f-prefecture", "吴忠市")
        after_region = _wait_drawn(
            page, "enrollment_by_grade", different_from=after_year, context="吴忠市"
        )
        total = sum(y for t in after_region["data"] for y in t["y"] if y is not None)
        total_before = sum(y for t in after_year["data"] for y in t["y"] if y is not None)
        assert 0 < total < total_before
        page.wait_for_function(
            "() => !document.querySelector('#f-county').closest('.dash-dropdown')"
            " || !document.querySelector('#f-county [aria-disabled=true]')"
        )
        _choose(page, "f-county", "利通区")
        # (吴忠市 has a single county with students: same figure, its own name)
        _wait_drawn(page, "enrollment_by_grade", context="利通区")
        page.screenshot(path=str(shots / "enrollment-filtered.png"), full_page=True)

        # the navigation keeps the filters: the overview now shows the county
        page.click("#nav-overview")
        _wait_drawn(page, "overview_by_stage", context="利通区")

        # English, from the top bar
        page.click("#xj-lang")
        page.wait_for_load_state("networkidle")
        _wait_drawn(page, "overview_trend")
        assert "Registry overview" in page.inner_text("h1")
        page.screenshot(path=str(shots / "overview-en.png"), full_page=True)
    finally:
        context.close()
    print(f"screenshots: {shots}")
    assert not failed, failed
    assert not [e for e in errors if "favicon" not in e and "404" not in e], errors
