"""The printable progression report: a real PDF with the Chinese font embedded, whose text
(extracted back with pypdf) is what was rendered, scoped like every dashboard request."""

from __future__ import annotations

import io
import re
import sqlite3

import pytest
from pypdf import PdfReader

from tests.dashboards.conftest import COUNTY_A

YEAR = "2026-2027"


def _pdf(client, query: str) -> PdfReader:
    response = client.get(f"/dashboards/report.pdf?{query}")
    assert response.status_code == 200, response.data[:200]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    return PdfReader(io.BytesIO(response.data))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_report_for_a_county_in_chinese(world, client_for) -> None:
    reader = _pdf(client_for("analyst"), f"region={COUNTY_A}&school_year={YEAR}")
    text = _text(reader)
    for expected in (
        "升学情况报告",
        "利通区",
        f"{YEAR}学年",
        "一、基本情况",
        "二、毕业年级学生去向",
        "三、各地区升学率",
        "在校生（人）",
        "数据截至",
        "少于 5 人",
    ):
        assert expected in text, expected
    con = sqlite3.connect(world.folder / "xueji.db")
    students = con.execute(
        "SELECT COUNT(*) FROM enrollment e JOIN school s ON s.id = e.school_id "
        "JOIN school_year y ON y.id = e.school_year_id "
        "WHERE e.is_active = 1 AND s.region_code = ? AND y.code = ?",
        (COUNTY_A, YEAR),
    ).fetchone()[0]
    con.close()
    assert re.search(rf"在校生（人）\s*{students:,}", text), "students of the county"
    assert "海原县" not in text and "中卫市" not in text
    # the CJK font is embedded (a subset), not merely referenced
    fonts = {
        str(f.get_object()["/BaseFont"])
        for page in reader.pages
        for f in page["/Resources"]["/Font"].values()
    }
    # "AAAAAA+WenQuanYiMicroHei-0": a subset of the font, embedded
    assert any(re.fullmatch(r"/[A-Z]{6}\+WenQuanYi.*", name) for name in fonts), fonts
    assert reader.metadata.title.startswith("升学情况报告")


def test_report_in_english(client_for) -> None:
    text = _text(_pdf(client_for("prov_analyst"), "region=64&lang=en"))
    assert "Progression report" in text and "宁夏回族自治区" in text
    assert "1. Overview" in text and "升学情况报告" not in text


def test_report_for_a_school_leader(world, client_for) -> None:
    school = world.schools[COUNTY_A][0]
    client = client_for("principal")
    text = _text(_pdf(client, f"region={school}"))
    assert "升学情况报告" in text
    assert (
        client.get(f"/dashboards/report.pdf?region={world.schools[COUNTY_A][1]}").status_code == 403
    )


@pytest.mark.parametrize("username,status", [(None, 302), ("teacher", 403)])
def test_report_is_guarded(client_for, username, status) -> None:
    assert (
        client_for(username).get(f"/dashboards/report.pdf?region={COUNTY_A}").status_code == status
    )
