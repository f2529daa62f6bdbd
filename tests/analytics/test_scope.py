"""Scope: a county scope never sees another county's rows; filters only narrow; unknown
metrics and malformed parameters fail before any SQL runs."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from analytics.catalog import load_catalog
from analytics.engine import BadParameter, ScopeViolation, UnknownMetric, run_metric
from analytics.scope import AnalyticsScope

from . import synthetic
from .conftest import SQLITE_ONLY, _runner

CATALOG = load_catalog()
COUNTY_A = "640105"  # the county of school A in the synthetic facts


class NoCursor:
    """A cursor factory that must not be called."""

    calls = 0

    def __call__(self) -> duckdb.DuckDBPyConnection:
        self.calls += 1
        raise AssertionError("a cursor was opened although the request must be refused")


def refuse(name, scope, params):
    factory = NoCursor()
    try:
        run_metric(name, scope, params, cursor_factory=factory, snapshot="s", as_of="t")
    finally:
        assert factory.calls == 0


# --- the scope object --------------------------------------------------------------------


def test_narrowing_only_narrows():
    province = AnalyticsScope("64")
    assert province.narrow() == province
    assert province.narrow(region="6401") == AnalyticsScope("6401")
    assert province.narrow(region="640105", school="2164000008") == AnalyticsScope(
        "640105", "2164000008"
    )
    for outside in ("11", "4602", "110113", "65"):
        with pytest.raises(ScopeViolation):
            province.narrow(region=outside)
    county = AnalyticsScope("640105")
    with pytest.raises(ScopeViolation):
        county.narrow(region="64")  # a wider region is not a narrowing
    with pytest.raises(ScopeViolation):
        county.narrow(school="2111000001", school_county="110113")
    school = AnalyticsScope("640105", "2164000008")
    with pytest.raises(ScopeViolation):
        school.narrow(school="2164000007")
    assert school.narrow(school="2164000008") == school
    assert issubclass(ScopeViolation, PermissionError)


@pytest.mark.parametrize(
    "prefix, school", [("6", None), ("640", None), ("6401055", None), ("ab", None), ("", "123")]
)
def test_malformed_scopes_are_refused(prefix, school):
    with pytest.raises(ValueError):
        AnalyticsScope(prefix, school)


def test_unknown_metric():
    with pytest.raises(UnknownMetric):
        refuse("no_such_metric", AnalyticsScope(), None)
    with pytest.raises(KeyError):
        refuse("enrollment_by_region; DROP TABLE dim_school", AnalyticsScope(), None)


INJECTIONS = [
    ("school_year", "2026-2027'; DROP TABLE fact_enrollment; --"),
    ("school_year", "2026-2028"),
    ("school_year", "2026/2027"),
    ("school_year", 2026),
    ("stage", "primary' OR '1'='1"),
    ("stage", "kindergarten"),
    ("level", "county; SELECT * FROM dim_student"),
    ("region", "64' OR '1'='1"),
    ("region", "6%"),
    ("region", "_4"),
    ("school", "21640000%8"),
    ("school", "2164000008' --"),
    ("grade", "21 OR 1=1"),
    ("nonsense", "1"),
    ("region_prefix", ""),  # scope placeholders are not parameters
    ("school_code", "2164000008"),
]


@pytest.mark.parametrize("key, value", INJECTIONS)
def test_malformed_or_malicious_parameters_are_refused_before_any_sql(key, value):
    with pytest.raises(BadParameter):
        refuse("enrollment_by_grade", AnalyticsScope("64"), {key: value})


def test_other_metrics_refuse_parameters_they_do_not_take():
    with pytest.raises(BadParameter):
        refuse("region_children", AnalyticsScope(), {"school_year": "2026-2027"})
    with pytest.raises(BadParameter):
        refuse("subject_means", AnalyticsScope(), {"subject": "math'--"})
    with pytest.raises(BadParameter):
        refuse("attendance_rate_by_school_month", AnalyticsScope(), {"month": "2026-13"})
    with pytest.raises(BadParameter):
        refuse("enrollment_by_region", AnalyticsScope(), ["stage"])  # type: ignore[arg-type]


def test_narrowing_outside_the_scope_is_refused_before_any_sql():
    with pytest.raises(ScopeViolation):
        refuse("enrollment_by_region", AnalyticsScope("64"), {"region": "46"})
    with pytest.raises(ScopeViolation):
        refuse("enrollment_by_region", AnalyticsScope("640105"), {"region": "6401"})
    with pytest.raises(ScopeViolation):
        refuse(
            "enrollment_by_region",
            AnalyticsScope("640105", "2164000008"),
            {"school": "2146000005"},
        )


# --- on the warehouse --------------------------------------------------------------------


@SQLITE_ONLY
def test_a_school_outside_a_region_scope_is_refused(run, snapshot_conn):
    other = synthetic.schools(snapshot_conn)["B"]
    with pytest.raises(ScopeViolation):
        run("enrollment_by_region", AnalyticsScope("64"), {"school": other.code})
    with pytest.raises(BadParameter):
        run("enrollment_by_region", AnalyticsScope("64"), {"school": "6499999999"})
    inside = synthetic.schools(snapshot_conn)["A"]
    result = run("enrollment_by_region", AnalyticsScope("64"), {"school": inside.code})
    assert {r[1] for r in result.rows} == {inside.code}  # default level: school


@pytest.fixture(scope="module")
def county_only(facts_file, tmp_path_factory):
    """The synthetic-facts warehouse with every row of any other county deleted (transfers
    that come in or go out of the county are kept, as the county sees them)."""
    target = tmp_path_factory.mktemp("county-only") / "county.duckdb"
    shutil.copyfile(facts_file, target)
    like = COUNTY_A + "%"
    with duckdb.connect(str(target)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_columns() WHERE column_name = 'county_code' "
                "AND (table_name LIKE 'fact_%' OR table_name LIKE 'agg_%' "
                "OR table_name = 'dim_class')"
            ).fetchall()
        ]
        for table in tables:
            if table == "fact_status_change":
                conn.execute(
                    "DELETE FROM fact_status_change WHERE NOT (coalesce(county_code, '') LIKE $p "
                    "OR coalesce(from_county_code, '') LIKE $p "
                    "OR coalesce(to_county_code, '') LIKE $p)",
                    {"p": like},
                )
            else:
                conn.execute(
                    f"DELETE FROM {table} WHERE coalesce(county_code, '') NOT LIKE $p", {"p": like}
                )
        conn.execute(
            "DELETE FROM dim_student WHERE coalesce(current_county_code, '') NOT LIKE $p",
            {"p": like},
        )
    conn = duckdb.connect(str(target), read_only=True)
    yield conn
    conn.close()


def _variants(name):
    m = CATALOG[name]
    variants = [{}]
    if "level" in m.params:
        variants += [{"level": "school"}, {"level": "province"}]
    if "school_year" in m.params:
        variants += [{"school_year": "2025-2026"}, {"school_year": "2024-2025"}]
    if "basis" in m.params:
        variants += [{"basis": "destination"}]
    return variants


@SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_a_county_scope_is_unaffected_by_other_counties(name, run_facts, county_only):
    """Deleting every other county's data changes nothing a county user sees: no metric
    reads (or leaks) another county's rows."""
    alone = _runner(county_only, "facts")
    scope = AnalyticsScope(COUNTY_A)
    for params in _variants(name):
        assert run_facts(name, scope, params).rows == alone(name, scope, params).rows, params


@SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_region_columns_stay_inside_the_scope(name, run_facts, facts_conn):
    m = CATALOG[name]
    schools_in = {
        r[0]
        for r in facts_conn.execute(
            "SELECT school_code FROM dim_school WHERE county_code LIKE '640105%'"
        ).fetchall()
    }

    def inside(code: str | None) -> bool:
        return code is not None and (
            code.startswith(COUNTY_A) or code in schools_in or COUNTY_A.startswith(code)
        )

    params = {"level": "school"} if "level" in m.params else {}
    result = run_facts(name, AnalyticsScope(COUNTY_A), params)
    cols = result.columns
    for row in result.rows:
        values = dict(zip(cols, row, strict=True))
        if "from_region_code" in values:
            assert inside(values["from_region_code"]) or inside(values["to_region_code"])
        elif "region_code" in values:
            assert inside(values["region_code"]), values
        elif name == "region_children":
            assert values["code"] in schools_in


@SQLITE_ONLY
def test_a_school_user_sees_only_the_school(run_facts, facts_conn):
    a = synthetic.schools(facts_conn)["A"]
    scope = AnalyticsScope(a.county, a.code)
    assert run_facts("region_children", scope).rows == [
        ("school", a.code, run_facts("region_children", scope).rows[0][2], a.county, True, 1)
    ]
    for name in ("enrollment_by_grade", "class_sizes", "subject_means", "data_quality"):
        result = run_facts(name, scope, {"level": "county"})
        # Even grouped by county, the figures are the school's own.
        school_level = run_facts(name, scope, {"level": "school"})
        assert len(result.rows) == len(school_level.rows)
        idx = result.columns.index("region_code")
        assert {r[idx] for r in school_level.rows} == {a.code}
