"""Ranks against a brute-force reference (hypothesis): admin.domain.ranking.rank and friends.

Reference: a row's key is its value followed by its tie-break values. Row j is *better* than
row i when, at the first column where they differ, j has a number and i has none, or j's
number is better (higher when descending). Competition rank = 1 + number of strictly better
rows; dense rank = 1 + number of distinct strictly better keys. Rows whose value is not a
number get no rank.
"""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.ranking import (
    Rankable,
    ScoreCode,
    ScorePolicy,
    rank,
    rank_by_key,
    rank_students,
    student_total,
    validate_score,
)

FAST = settings(max_examples=40, deadline=None)
THOROUGH = settings(max_examples=100, deadline=None)

# Few distinct values so that ties are frequent; codes and None are "not a number".
cell = st.one_of(
    st.integers(min_value=0, max_value=6).map(Decimal),
    st.integers(min_value=0, max_value=6),
    st.sampled_from([Decimal("2.5"), 3.5, None, ScoreCode.ABSENT, ScoreCode.EXEMPT, "作弊"]),
)


def is_number(value: Rankable) -> bool:
    return isinstance(value, Decimal | int | float) and not isinstance(value, bool)


def better(a: Rankable, b: Rankable, descending: bool) -> int:
    """1 if a is better than b, -1 if worse, 0 if equal (one column)."""
    if not is_number(a) and not is_number(b):
        return 0
    if not is_number(b):
        return 1
    if not is_number(a):
        return -1
    assert isinstance(a, Decimal | int | float) and isinstance(b, Decimal | int | float)
    if a == b:
        return 0
    return 1 if (a > b) == descending else -1


def row_better(a: tuple[Rankable, ...], b: tuple[Rankable, ...], descending: bool) -> bool:
    for x, y in zip(a, b, strict=True):
        outcome = better(x, y, descending)
        if outcome:
            return outcome > 0
    return False


def reference(
    values: list[Rankable], tie_breaks: list[list[Rankable]], mode: str, descending: bool
) -> list[int | None]:
    rows = [tuple([v, *(col[i] for col in tie_breaks)]) for i, v in enumerate(values)]
    ranked = [i for i, v in enumerate(values) if is_number(v)]
    result: list[int | None] = [None] * len(values)
    for i in ranked:
        above = [j for j in ranked if row_better(rows[j], rows[i], descending)]
        if mode == "competition":
            result[i] = 1 + len(above)
        else:
            distinct: list[tuple[Rankable, ...]] = []
            for j in above:
                if not any(
                    not row_better(rows[j], k, descending)
                    and not row_better(k, rows[j], descending)
                    for k in distinct
                ):
                    distinct.append(rows[j])
            result[i] = 1 + len(distinct)
    return result


@st.composite
def table(draw: st.DrawFn) -> tuple[list[Rankable], list[list[Rankable]]]:
    size = draw(st.integers(min_value=0, max_value=12))
    columns = draw(st.integers(min_value=0, max_value=3))
    values = draw(st.lists(cell, min_size=size, max_size=size))
    breaks = [draw(st.lists(cell, min_size=size, max_size=size)) for _ in range(columns)]
    return values, breaks


@THOROUGH
@given(table(), st.sampled_from(["competition", "dense"]), st.booleans())
def test_rank_matches_the_brute_force_reference(
    data: tuple[list[Rankable], list[list[Rankable]]], mode: str, descending: bool
) -> None:
    values, breaks = data
    got = rank(values, mode, descending=descending, tie_breaks=breaks)  # type: ignore[arg-type]
    assert got == reference(values, breaks, mode, descending)


@FAST
@given(st.lists(cell, max_size=15))
def test_simple_rank_formulas(values: list[Rankable]) -> None:
    numbers = [v for v in values if is_number(v)]
    competition = rank(values)
    dense = rank(values, "dense")
    for value, c, d in zip(values, competition, dense, strict=True):
        if not is_number(value):
            assert c is None and d is None
            continue
        assert isinstance(value, Decimal | int | float)
        assert c == 1 + sum(1 for n in numbers if n > value)  # type: ignore[operator]
        assert d == 1 + len({Decimal(str(n)) for n in numbers if n > value})  # type: ignore[operator]
        assert d is not None and c is not None and d <= c


@FAST
@given(table(), st.randoms(use_true_random=False))
def test_rank_does_not_depend_on_row_order(
    data: tuple[list[Rankable], list[list[Rankable]]], rng: random.Random
) -> None:
    values, breaks = data
    order = list(range(len(values)))
    rng.shuffle(order)
    shuffled = [values[i] for i in order]
    shuffled_breaks = [[col[i] for i in order] for col in breaks]
    expected = rank(values, tie_breaks=breaks)
    assert rank(shuffled, tie_breaks=shuffled_breaks) == [expected[i] for i in order]


@FAST
@given(table())
def test_dense_ranks_have_no_gaps_and_competition_ranks_count_rows(
    data: tuple[list[Rankable], list[list[Rankable]]],
) -> None:
    values, breaks = data
    dense = [r for r in rank(values, "dense", tie_breaks=breaks) if r is not None]
    assert sorted(set(dense)) == list(range(1, len(set(dense)) + 1))
    competition = [r for r in rank(values, tie_breaks=breaks) if r is not None]
    for r in set(competition):
        assert sum(1 for x in competition if x < r) == r - 1


@FAST
@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=30),
        st.tuples(cell, st.sampled_from(["1班", "2班", "3班", None])),
        max_size=20,
    ),
    st.sampled_from(["competition", "dense"]),
)
def test_class_rank_is_the_rank_within_the_class(
    students: dict[int, tuple[Rankable, str | None]], mode: str
) -> None:
    values = {s: v for s, (v, _) in students.items()}
    classes = {s: c for s, (_, c) in students.items() if c is not None}
    by_class = rank_by_key(values, mode, group_of=classes)  # type: ignore[arg-type]
    for group in {"1班", "2班", "3班"}:
        members = [s for s in values if classes.get(s) == group]
        expected = rank([values[s] for s in members], mode)  # type: ignore[arg-type]
        assert [by_class[s] for s in members] == expected
    assert all(by_class[s] is None for s in values if s not in classes)


subject_result = st.one_of(
    st.integers(min_value=0, max_value=3).map(Decimal),
    st.sampled_from([ScoreCode.ABSENT, ScoreCode.EXEMPT, ScoreCode.CHEATING, None]),
)


@FAST
@given(
    st.lists(
        st.fixed_dictionaries(
            {"语文": subject_result, "数学": subject_result, "外语": subject_result}
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_rank_students_matches_the_reference_with_tie_breaks(
    rows: list[dict[str, Decimal | ScoreCode | None]], zero: bool
) -> None:
    policy = ScorePolicy(absent="zero") if zero else ScorePolicy()
    sheet = dict(enumerate(rows))
    order = ("总分", ("语文", "数学"), "语文", "数学", "外语")
    got = rank_students(sheet, order=order, policy=policy)
    totals = [student_total(r, policy=policy).rankable for r in rows]

    def part(r: dict[str, Decimal | ScoreCode | None], names: tuple[str, ...]) -> Decimal | None:
        counted = [policy.counted(r[n]) for n in names]
        return None if None in counted else sum(counted, Decimal(0))  # type: ignore[arg-type]

    breaks = [
        [part(r, ("语文", "数学")) for r in rows],
        [part(r, ("语文",)) for r in rows],
        [part(r, ("数学",)) for r in rows],
        [part(r, ("外语",)) for r in rows],
    ]
    expected = reference(list(totals), breaks, "competition", True)  # type: ignore[arg-type]
    assert [got[i].grade_rank for i in range(len(rows))] == expected


@FAST
@given(
    st.decimals(min_value=-10, max_value=200, places=2, allow_nan=False),
    st.integers(min_value=1, max_value=150),
)
def test_validate_score_accepts_exactly_the_in_range_one_decimal_values(
    value: Decimal, full_mark: int
) -> None:
    parsed, violations = validate_score(str(value), full_mark)
    one_place = value == value.quantize(Decimal("1.0"))
    ok = one_place and 0 <= value <= full_mark
    assert (parsed is not None) == ok == (violations == [])
    if ok:
        assert parsed == value
