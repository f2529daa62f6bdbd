"""Scores, statistics, bands and parent visibility: admin.domain.ranking."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from admin.domain.messages import Violation
from admin.domain.ranking import (
    DEFAULT_PARENT_VISIBILITY,
    DEFAULT_POLICY,
    FIVE_LEVELS,
    FOUR_LEVELS,
    GAOKAO_TIE_BREAK,
    TOTAL,
    Band,
    BandScale,
    ExamType,
    ParentView,
    ParentVisibility,
    ScoreCode,
    ScorePolicy,
    SubjectLines,
    bin_edges,
    check_exam_type,
    decimal_places,
    default_lines,
    distribution,
    population_stdev,
    rank,
    rank_by_key,
    rank_students,
    round_half_up,
    student_total,
    subject_stats,
    subject_stats_by_group,
    validate_score,
)

D = Decimal
ABSENT, EXEMPT, CHEATING = ScoreCode.ABSENT, ScoreCode.EXEMPT, ScoreCode.CHEATING


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


# --- validate_score --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "full_mark", "expected"),
    [
        ("92.5", 100, D("92.5")),
        ("９２．５", 100, D("92.5")),  # full-width digits and point
        (" 100 ", 100, D(100)),
        ("0", 100, D(0)),
        ("-0", 100, D(0)),
        ("92.50", 100, D("92.5")),  # trailing zeros are not extra precision
        ("150", 150, D(150)),
        ("119.5", 120, D("119.5")),
        (88, 100, D(88)),
        (D("76.5"), 100, D("76.5")),
        (D("1E+2"), 100, D(100)),
        (92.5, 100, D("92.5")),
        (D(60), D(100), D(60)),
    ],
)
def test_valid_scores(raw: str | int | float | Decimal, full_mark: int, expected: Decimal) -> None:
    value, violations = validate_score(raw, full_mark)
    assert violations == []
    assert value == expected and isinstance(value, Decimal)
    assert decimal_places(value) <= 1


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("缺考", ABSENT),
        ("免考", EXEMPT),
        ("作弊", CHEATING),
        (" 缺考 ", ABSENT),
        ("Absent", ABSENT),
        ("exempt", EXEMPT),
        ("CHEATING", CHEATING),
    ],
)
def test_score_codes(raw: str, code: ScoreCode) -> None:
    assert validate_score(raw, 100) == (code, [])


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_blank_is_not_an_error(raw: str | None) -> None:
    assert validate_score(raw, 100) == (None, [])


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "score.format"),
        ("9 2", "score.format"),
        ("1e2", "score.format"),
        (".5", "score.format"),
        ("92.55", "score.format"),
        (D("92.55"), "score.format"),
        (92.55, "score.format"),
        (D("NaN"), "score.format"),
        (float("inf"), "score.format"),
        (True, "score.format"),
        ("缺", "score.format"),
        ("101", "score.range"),
        ("100.5", "score.range"),
        ("-1", "score.range"),
        (D("-0.5"), "score.range"),
        (1000, "score.range"),
    ],
)
def test_invalid_scores(raw: str | int | float | Decimal, code: str) -> None:
    value, violations = validate_score(raw, 100)
    assert value is None
    assert codes(violations) == [code]
    assert violations[0].field == "score"
    assert violations[0].params["full_mark"] == "100"


def test_decimal_places_are_configurable() -> None:
    assert validate_score("92.25", 100, decimals=2) == (D("92.25"), [])
    assert codes(validate_score("92.5", 100, decimals=0)[1]) == ["score.format"]
    assert validate_score("92.0", 100, decimals=0) == (D(92), [])
    with pytest.raises(ValueError):
        validate_score("1", 100, decimals=-1)


def test_full_mark_must_be_positive() -> None:
    for bad in (0, -100, D("NaN")):
        with pytest.raises(ValueError):
            validate_score("1", bad)


def test_score_messages_render_in_both_locales() -> None:
    _, violations = validate_score("130", 120, field="score")
    assert violations[0].message() == "成绩：130 超出范围，应在0到120之间"
    assert violations[0].message("en") == "Score: 130 is out of range; it must be between 0 and 120"
    _, violations = validate_score("x", 150)
    assert "0–150" in violations[0].message() and "缺考" in violations[0].message()


def test_decimal_places() -> None:
    assert [decimal_places(D(t)) for t in ("1", "1.0", "1.50", "0.05", "0.000", "1E+3")] == [
        0,
        0,
        1,
        2,
        0,
        0,
    ]


# --- policy and totals -----------------------------------------------------------------------


def test_policy_counts_codes_as_configured() -> None:
    assert DEFAULT_POLICY.counted(ABSENT) is None
    assert DEFAULT_POLICY.counted(EXEMPT) is None
    assert DEFAULT_POLICY.counted(CHEATING) == 0
    assert DEFAULT_POLICY.counted(None) is None
    assert DEFAULT_POLICY.counted(D(7)) == 7
    zeros = ScorePolicy(absent="zero", exempt="zero")
    assert zeros.counted(ABSENT) == 0 and zeros.counted(EXEMPT) == 0
    with pytest.raises(ValueError):
        ScorePolicy(absent="ignore")  # type: ignore[arg-type]


def test_policy_is_described_for_the_report_footnote() -> None:
    assert (
        DEFAULT_POLICY.describe()
        == "缺考不计入统计；免考不计入统计；作弊按0分计；缺科的总分不参加排名"
    )
    text = ScorePolicy(absent="zero", rank_incomplete=True).describe("en")
    assert "absent: counted as 0" in text and "incomplete totals ranked" in text


def test_student_total() -> None:
    results = {"语文": D(90), "数学": D("85.5"), "外语": ABSENT, "物理": CHEATING}
    total = student_total(results)
    assert total.total == D("175.5")
    assert total.counted == 3 and total.excluded == ("外语",)
    assert total.mean == D("58.5")
    assert not total.complete and total.rankable is None
    zero = student_total(results, policy=ScorePolicy(absent="zero"))
    assert zero.complete and zero.rankable == D("175.5") and zero.counted == 4
    assert student_total(results, policy=ScorePolicy(rank_incomplete=True)).rankable == D("175.5")


def test_student_total_over_listed_subjects() -> None:
    results = {"语文": D(90), "数学": D(80), "音乐": D(99)}
    assert student_total(results, ["语文", "数学"]).total == 170
    missing = student_total(results, ["语文", "数学", "外语"])
    assert missing.total == 170 and missing.excluded == ("外语",)
    nothing = student_total({"语文": ABSENT})
    assert nothing.total is None and nothing.mean is None and nothing.counted == 0


# --- subject statistics ----------------------------------------------------------------------


def test_subject_stats() -> None:
    results = [D(95), D(85), D(60), D("59.5"), D(40), ABSENT, EXEMPT, CHEATING, None]
    stats = subject_stats(results, 100)
    assert (stats.entries, stats.counted, stats.blank) == (8, 6, 1)
    assert (stats.absent, stats.exempt, stats.cheating) == (1, 1, 1)
    assert stats.mean == D("56.58333333333333333333333333")  # 339.5 / 6, 0 for 作弊
    assert (stats.maximum, stats.minimum) == (D(95), D(0))
    assert stats.lines == SubjectLines(D(60), D(85))
    assert (stats.pass_count, stats.excellent_count) == (3, 2)  # lines are inclusive
    assert stats.pass_rate == D("0.5")
    assert stats.excellent_rate == D(1) / D(3)
    assert stats.policy is DEFAULT_POLICY
    assert [b.count for b in stats.distribution] == [1, 0, 0, 0, 1, 1, 1, 0, 1, 1]
    assert sum(b.count for b in stats.distribution) == stats.counted


def test_subject_stats_policy_changes_the_denominator() -> None:
    results = [D(100), D(50), ABSENT]
    assert subject_stats(results, 100).mean == 75
    zero = subject_stats(results, 100, policy=ScorePolicy(absent="zero"))
    assert zero.mean == 50 and zero.counted == 3
    assert zero.pass_rate == D(1) / D(3)


def test_subject_stats_of_nothing() -> None:
    stats = subject_stats([None, ABSENT], 100)
    assert stats.counted == 0 and stats.mean is None and stats.stdev is None
    assert stats.pass_rate is None and stats.excellent_rate is None
    assert stats.maximum is None and sum(b.count for b in stats.distribution) == 0


def test_population_standard_deviation() -> None:
    # Classic example: mean 5, population variance 4.
    values = [D(v) for v in (2, 4, 4, 4, 5, 5, 7, 9)]
    assert population_stdev(values) == 2
    assert population_stdev([D(70)]) == 0
    assert population_stdev([]) is None


def test_statistics_ignore_the_callers_decimal_context() -> None:
    values = [D(1), D(2), D(2)]
    with localcontext() as ctx:
        ctx.prec = 3
        stats = subject_stats(values, 100)
    assert stats.mean == D(5) / D(3)  # 28 digits, not 1.67


def test_lines_per_subject() -> None:
    assert default_lines(150) == SubjectLines(D(90), D("127.5"))
    assert default_lines(120, 60, 80) == SubjectLines(D(72), D(96))
    custom = subject_stats([D(70), D(80)], 100, lines=SubjectLines(D(75), D(80)))
    assert (custom.pass_count, custom.excellent_count) == (1, 1)
    with pytest.raises(ValueError):
        SubjectLines(D(90), D(60))


def test_stats_by_class() -> None:
    results = {"s1": D(90), "s2": D(70), "s3": ABSENT, "s4": D(50), "s5": D(99)}
    classes = {"s1": "1班", "s2": "1班", "s3": "2班", "s4": "2班"}
    stats = subject_stats_by_group(results, classes, 100)
    assert stats["1班"].mean == 80 and stats["2班"].mean == 50 and stats["2班"].absent == 1
    assert set(stats) == {"1班", "2班"}  # s5 has no class


def test_distribution_bins() -> None:
    assert bin_edges(100) == [D(0), D(10), D(20), D(30), D(40), D(50), D(60), D(70), D(80), D(90)]
    assert bin_edges(150, 50) == [0, 50, 100]
    bins = distribution([D(0), D(49), D(50), D("99.5"), D(100), D(150)], 150, bin_edges(150, 50))
    assert [(b.lower, b.upper, b.count, b.upper_inclusive) for b in bins] == [
        (0, 50, 2, False),
        (50, 100, 2, False),
        (100, 150, 2, True),
    ]
    for bad in ([D(10), D(50)], [D(0), D(0)], [D(0), D(150)], []):
        with pytest.raises(ValueError):
            distribution([], 150, bad)
    with pytest.raises(ValueError):
        bin_edges(100, 0)


def test_round_half_up() -> None:
    assert round_half_up(D("2.345")) == D("2.35")
    assert round_half_up(D("2.5"), 0) == 3
    assert round_half_up(D(1) / D(3), 4) == D("0.3333")


# --- ranks (examples; properties are in test_ranking_properties.py) ---------------------------


def test_rank_modes() -> None:
    values = [D(90), D(80), D(80), D(70), None, ABSENT]
    assert rank(values) == [1, 2, 2, 4, None, None]
    assert rank(values, "dense") == [1, 2, 2, 3, None, None]
    assert rank(values, descending=False) == [4, 2, 2, 1, None, None]
    assert rank([]) == []
    with pytest.raises(ValueError):
        rank(values, "olympic")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        rank(values, tie_breaks=[[D(1)]])


def test_rank_skips_non_finite_numbers() -> None:
    assert rank([D("NaN"), float("nan"), 3, 2.5, D(3)]) == [None, None, 1, 3, 1]


def test_tie_breaks() -> None:
    totals = [D(600), D(600), D(600), D(590)]
    chinese_math = [D(250), D(260), D(250), D(300)]
    chinese = [D(120), D(110), None, D(140)]
    assert rank(totals, tie_breaks=[chinese_math, chinese]) == [2, 1, 3, 4]
    assert rank(totals, "dense", tie_breaks=[chinese_math]) == [2, 1, 2, 3]


def test_rank_by_key_per_class_and_grade() -> None:
    values = {"a": D(90), "b": D(80), "c": D(85), "d": D(80), "e": D(99)}
    classes = {"a": 1, "b": 1, "c": 2, "d": 2}
    assert rank_by_key(values) == {"a": 2, "b": 4, "c": 3, "d": 4, "e": 1}
    assert rank_by_key(values, group_of=classes) == {"a": 1, "b": 2, "c": 1, "d": 2, "e": None}


def test_rank_students_with_gaokao_tie_break() -> None:
    sheet = {
        "张三": {"语文": D(120), "数学": D(130), "外语": D(140)},  # 390, 语数 250
        "李四": {"语文": D(110), "数学": D(140), "外语": D(140)},  # 390, 语数 250, 语文 lower
        "王五": {"语文": D(100), "数学": D(150), "外语": D(150)},  # 400
        "赵六": {"语文": D(120), "数学": D(130), "外语": D(140)},  # identical to 张三
        "钱七": {"语文": D(150), "数学": ABSENT, "外语": D(150)},  # incomplete: unranked
    }
    classes = {"张三": "1班", "李四": "1班", "王五": "2班", "赵六": "2班", "钱七": "1班"}
    result = rank_students(sheet, order=GAOKAO_TIE_BREAK, class_of=classes)
    assert {s: r.grade_rank for s, r in result.items()} == {
        "张三": 2,
        "李四": 4,
        "王五": 1,
        "赵六": 2,
        "钱七": None,
    }
    assert {s: r.class_rank for s, r in result.items()} == {
        "张三": 1,
        "李四": 2,
        "王五": 1,
        "赵六": 2,
        "钱七": None,
    }
    assert result["钱七"].total.total == 300 and not result["钱七"].total.complete
    dense = rank_students(sheet, order=GAOKAO_TIE_BREAK, mode="dense")
    assert dense["李四"].grade_rank == 3 and dense["李四"].class_rank is None
    plain = rank_students(sheet)  # total only: 张三, 李四 and 赵六 tie
    assert [plain[s].grade_rank for s in ("王五", "张三", "李四", "赵六")] == [1, 2, 2, 2]
    zero = rank_students(sheet, policy=ScorePolicy(absent="zero"))
    assert zero["钱七"].grade_rank == 5
    with pytest.raises(ValueError):
        rank_students(sheet, order=())


def test_rank_students_by_a_single_subject() -> None:
    sheet = {"a": {"数学": D(90)}, "b": {"数学": EXEMPT}, "c": {"数学": D(95)}}
    result = rank_students(sheet, order=("数学",))
    assert [result[s].grade_rank for s in "abc"] == [2, None, 1]
    assert TOTAL == "总分"


# --- bands -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "full_mark", "code", "zh"),
    [
        ("100", 100, "A", "优秀"),
        ("90", 100, "A", "优秀"),
        ("89.5", 100, "B", "良好"),
        ("80", 100, "B", "良好"),
        ("60", 100, "C", "合格"),
        ("59.5", 100, "D", "待合格"),
        ("0", 100, "D", "待合格"),
        ("108", 120, "A", "优秀"),  # 90 % of 120
        ("107.5", 120, "B", "良好"),
        ("90", 150, "C", "合格"),
    ],
)
def test_four_levels(score: str, full_mark: int, code: str, zh: str) -> None:
    band = FOUR_LEVELS.band(D(score), full_mark)
    assert isinstance(band, Band) and (band.code, band.zh) == (code, zh)


def test_bands_keep_codes_and_blanks() -> None:
    assert FOUR_LEVELS.band(ABSENT, 100) is ABSENT
    assert FOUR_LEVELS.band(None, 100) is None


def test_five_levels_and_custom_cuts() -> None:
    assert [b.zh for b in FIVE_LEVELS.bands] == ["优秀", "良好", "中等", "合格", "待合格"]
    band = FIVE_LEVELS.band(D(75), 100)
    assert isinstance(band, Band) and band.code == "C"
    strict = FOUR_LEVELS.with_cuts([95, 85, 70, 0])
    band = strict.band(D(92), 100)
    assert isinstance(band, Band) and band.code == "B"
    with pytest.raises(ValueError):
        FOUR_LEVELS.with_cuts([90, 80, 0])
    for cuts in ([90, 90, 60, 0], [90, 80, 60, 10], [110, 80, 60, 0]):
        with pytest.raises(ValueError):
            FOUR_LEVELS.with_cuts(cuts)
    with pytest.raises(ValueError):
        BandScale((Band("A", "优", "A", D(0)),))
    with pytest.raises(ValueError):
        BandScale((Band("A", "优", "A", D(50)), Band("A", "差", "B", D(0))))


# --- 2021 rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "exam", "code"),
    [
        ("11", ExamType.FINAL, "exam.no_paper_exams"),
        ("12", ExamType.MIDTERM, "exam.no_paper_exams"),
        ("13", ExamType.FINAL, None),
        ("13", ExamType.MIDTERM, "exam.type_not_allowed"),
        ("16", ExamType.MONTHLY, "exam.type_not_allowed"),
        ("16", ExamType.MOCK, "exam.type_not_allowed"),
        ("21", ExamType.MIDTERM, None),
        ("21", ExamType.WEEKLY, "exam.type_not_allowed"),
        ("22", ExamType.UNIT, "exam.type_not_allowed"),
        ("15", ExamType.QUIZ, "exam.type_not_allowed"),  # 平时测验: banned like 单元测验
        ("23", ExamType.QUIZ, "exam.type_not_allowed"),
        ("12", ExamType.QUIZ, "exam.no_paper_exams"),
        ("32", ExamType.QUIZ, None),  # senior high: no limits
        ("21", "平时测验", "exam.type_not_allowed"),
        ("22", ExamType.MOCK, "exam.type_not_allowed"),
        ("23", ExamType.MOCK, None),  # graduating grade in the 6-3 system
        ("23", ExamType.ZHONGKAO, None),
        ("31", ExamType.MONTHLY, None),
        ("33", ExamType.MOCK, None),
        ("99", ExamType.FINAL, "code.unknown"),
        ("21", "周测", "code.unknown"),
        ("21", "期末", None),
    ],
)
def test_check_exam_type(grade: str, exam: str, code: str | None) -> None:
    assert codes(check_exam_type(grade, exam)) == ([code] if code else [])


def test_mock_exams_follow_the_school_system() -> None:
    assert codes(check_exam_type("23", ExamType.MOCK, primary_years=5)) == ["exam.type_not_allowed"]
    assert check_exam_type("24", ExamType.MOCK, primary_years=5) == []


def test_exam_messages() -> None:
    (violation,) = check_exam_type("12", ExamType.FINAL)
    assert violation.message() == "考试类型：二年级不得组织纸笔考试（期末）"
    assert "Grade 2" in violation.message("en")


def test_parent_visibility_defaults() -> None:
    see = DEFAULT_PARENT_VISIBILITY
    band_only = ParentView(band=True, score=False, rank=False)
    assert see("11", ExamType.FINAL) == band_only
    assert see("12", "期末") == band_only
    assert see("13", ExamType.FINAL) == ParentView(band=True, score=True, rank=False)
    assert see("23", ExamType.ZHONGKAO) == ParentView(band=True, score=True, rank=False)
    assert see("31", ExamType.MIDTERM) == ParentView(band=True, score=True, rank=True)
    assert see("xx", ExamType.GAOKAO) == band_only  # unknown grade: most restrictive


def test_parent_visibility_switches() -> None:
    strict = ParentVisibility(compulsory_scores=False, senior_ranks=False)
    assert strict("15", ExamType.FINAL) == ParentView(band=True, score=False, rank=False)
    assert strict("23", ExamType.ZHONGKAO).score  # public exam results reach the family
    assert strict("23", "未知考试").score is False
    assert strict("33", ExamType.MOCK).rank is False
    open_ = ParentVisibility(compulsory_ranks=True, band_only_grades=frozenset({"11"}))
    assert open_("12", ExamType.FINAL) == ParentView(band=True, score=True, rank=True)
