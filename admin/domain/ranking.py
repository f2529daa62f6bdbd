"""Exam scores: validation, totals, subject statistics, ranks, grade bands and what parents
may see (DOMAIN.md §6.2).

A student's result in one subject (``Result``) is a ``Decimal`` score in 0..full mark, a
``ScoreCode`` (缺考 absent, 免考 exempt, 作弊 cheating), or ``None`` when nothing has been
entered yet.

* **Missing scores** — whether 缺考 / 免考 / 作弊 are left out of means or counted as 0 is a
  local choice (unconfirmed nationally), so it is a ``ScorePolicy``; every report carries the
  policy it was computed with, and ``ScorePolicy.describe`` gives the footnote that says so.
  ``None`` (not entered) is always left out.
* **Statistics** — means, rates and standard deviations are exact ``Decimal`` arithmetic in a
  fixed 28-digit context (independent of the caller's decimal context); round for display
  with ``round_half_up`` (四舍五入). The standard deviation is the *population* one
  (σ = √(Σ(x − μ)² / n), Excel ``STDEV.P``): a class or grade is the whole population, not a
  sample of one.
* **Ranks** — ``"competition"`` (1, 2, 2, 4: Excel ``RANK``, "美式") or ``"dense"`` (1, 2, 2,
  3: "中国式排名"); descending by default; values that are not numbers (``None``, score codes)
  get no rank. Tie-break columns are applied before ranks are assigned; a student with no
  value in a tie-break column comes after every student who has one. Students equal in every
  column share a rank (同分同位次).
* **2021 rules** (教育部《关于加强义务教育学校考试管理的通知》): no paper exams in grades 1–2, no
  周考/月考/单元考试 in 义务教育, 期中 only in 初中, mock exams only in the graduating grade, results
  in 4–5 levels and not ranked. ``check_exam_type`` and ``ParentVisibility`` encode them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final, Literal, TypeAlias, TypeVar

from admin.domain.consistency import grade_by_code, grade_exists, stage_length
from admin.domain.messages import ZH_CN, Violation, resolve_locale
from admin.domain.text import to_halfwidth

K = TypeVar("K", bound=Hashable)

# Every division and square root runs in this context, whatever the caller's context is.
_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_HUNDRED: Final = Decimal(100)


class ScoreCode(StrEnum):
    """What is written in a score cell instead of a number."""

    ABSENT = "缺考"
    EXEMPT = "免考"
    CHEATING = "作弊"

    @property
    def en(self) -> str:
        return _SCORE_CODE_EN[self]


_SCORE_CODE_EN: Final[dict[ScoreCode, str]] = {
    ScoreCode.ABSENT: "absent",
    ScoreCode.EXEMPT: "exempt",
    ScoreCode.CHEATING: "cheating",
}
# Accepted spellings, compared after half-width conversion, stripping and lower-casing.
_SCORE_CODE_ALIASES: Final[dict[str, ScoreCode]] = {
    **{code.value: code for code in ScoreCode},
    **{english: code for code, english in _SCORE_CODE_EN.items()},
}

Result: TypeAlias = Decimal | ScoreCode | None
Rankable: TypeAlias = Decimal | int | float | str | None

DEFAULT_DECIMALS: Final = 1
_SCORE_TEXT: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_MAX_SCORE_TEXT: Final = 32


def _plain(value: Decimal) -> str:
    """``Decimal`` as plain text without exponent or trailing zeros: 150, 92.5."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def decimal_places(value: Decimal) -> int:
    """Decimal places of a finite value, trailing zeros not counted: 92.50 → 1, 1E+2 → 0."""
    if value.is_zero():
        return 0
    digits = "".join(map(str, value.as_tuple().digits))
    trailing = len(digits) - len(digits.rstrip("0"))
    return max(0, -(_exponent(value) + trailing))


def _full_mark(full_mark: Decimal | int) -> Decimal:
    value = Decimal(full_mark)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"full mark must be a positive number, got {full_mark!r}")
    return value


def parse_score_code(text: str) -> ScoreCode | None:
    """Parse a score code: "缺考", "absent" … → the code; None for anything else."""
    return _SCORE_CODE_ALIASES.get(to_halfwidth(text).strip().lower())


def validate_score(
    value: str | int | float | Decimal | None,
    full_mark: Decimal | int,
    field: str = "score",
    *,
    decimals: int = DEFAULT_DECIMALS,
) -> tuple[Result, list[Violation]]:
    """A score cell → ``(Decimal | ScoreCode | None, violations)``.

    Accepts a number (``Decimal``, ``int``, ``float``) or text: digits with an optional
    decimal part (full-width digits too), or a score code. Blank is ``None`` and not an error
    (presence is ``fields.require``). ``score.format``: not a number, not finite, or more than
    ``decimals`` decimal places (trailing zeros do not count: "92.50" is 92.5);
    ``score.range``: outside 0..full mark. Valid scores come back with at most ``decimals``
    places.
    """
    top = _full_mark(full_mark)
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, got {decimals}")
    params: dict[str, object] = {"full_mark": _plain(top), "decimals": decimals}
    number: Decimal
    if value is None:
        return None, []
    if isinstance(value, bool):
        return None, [Violation("score.format", field, {**params, "value": str(value)})]
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if math.isfinite(value) else Decimal("NaN")
    else:
        text = to_halfwidth(value).strip()
        if not text:
            return None, []
        code = parse_score_code(text)
        if code is not None:
            return code, []
        if len(text) > _MAX_SCORE_TEXT or not _SCORE_TEXT.fullmatch(text):
            return None, [Violation("score.format", field, {**params, "value": text})]
        number = Decimal(text)
    shown = str(value).strip()
    if not number.is_finite():
        return None, [Violation("score.format", field, {**params, "value": shown})]
    if decimal_places(number) > decimals:
        return None, [Violation("score.format", field, {**params, "value": shown})]
    if number < 0 or number > top:
        return None, [Violation("score.range", field, {**params, "value": shown})]
    if -_exponent(number) > decimals:  # trailing zeros only: "92.50" → 92.5
        number = number.quantize(Decimal(1).scaleb(-decimals), context=_CONTEXT)
    elif _exponent(number) > 0:  # Decimal("1E+2") → 100
        number = number.quantize(Decimal(1), context=_CONTEXT)
    return (number.copy_abs() if number == 0 else number), []


# --- missing-score policy --------------------------------------------------------------------

Treatment = Literal["exclude", "zero"]
EXCLUDE: Final = "exclude"
ZERO: Final = "zero"
_TREATMENTS: Final[tuple[str, ...]] = (EXCLUDE, ZERO)


@dataclass(frozen=True)
class ScorePolicy:
    """How 缺考 / 免考 / 作弊 enter totals, means and ranks (a local choice: DOMAIN.md §6.2).

    ``"exclude"`` leaves the result out of means, rates and statistics, and makes the
    student's total incomplete; ``"zero"`` counts it as a score of 0 everywhere. Incomplete
    totals are not ranked unless ``rank_incomplete`` (they are sums over fewer subjects).
    """

    absent: Treatment = "exclude"
    exempt: Treatment = "exclude"
    cheating: Treatment = "zero"
    rank_incomplete: bool = False

    def __post_init__(self) -> None:
        for name in ("absent", "exempt", "cheating"):
            if getattr(self, name) not in _TREATMENTS:
                raise ValueError(f"{name} must be 'exclude' or 'zero', got {getattr(self, name)!r}")

    def treatment(self, code: ScoreCode) -> Treatment:
        if code == ScoreCode.ABSENT:
            return self.absent
        if code == ScoreCode.EXEMPT:
            return self.exempt
        return self.cheating

    def counted(self, result: Result) -> Decimal | None:
        """The number this result contributes under the policy; None when left out."""
        if result is None or isinstance(result, Decimal):
            return result
        return Decimal(0) if self.treatment(ScoreCode(result)) == ZERO else None

    def describe(self, locale: str = ZH_CN) -> str:
        """The footnote a report prints: how each code was counted."""
        zh = resolve_locale(locale) == ZH_CN
        parts = []
        for code in ScoreCode:
            zero = self.treatment(code) == ZERO
            if zh:
                parts.append(f"{code.value}{'按0分计' if zero else '不计入统计'}")
            else:
                parts.append(f"{code.en}: {'counted as 0' if zero else 'left out'}")
        if zh:
            tail = "；缺科的总分参加排名" if self.rank_incomplete else "；缺科的总分不参加排名"
            return "；".join(parts) + tail
        tail = (
            "; incomplete totals ranked" if self.rank_incomplete else "; incomplete totals unranked"
        )
        return "; ".join(parts) + tail


DEFAULT_POLICY: Final = ScorePolicy()


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """四舍五入 to ``places`` decimals, for display."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_CONTEXT)


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _CONTEXT.add(total, value)
    return total


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    return _CONTEXT.divide(_sum(values), Decimal(len(values)))


def population_stdev(values: Sequence[Decimal]) -> Decimal | None:
    """σ = √(Σ(x − μ)² / n) (Excel STDEV.P); None for no values, 0 for one."""
    mean = _mean(values)
    if mean is None:
        return None
    squares = _sum(_CONTEXT.power(_CONTEXT.subtract(v, mean), 2) for v in values)
    return _CONTEXT.sqrt(_CONTEXT.divide(squares, Decimal(len(values))))


# --- per-student totals ----------------------------------------------------------------------


@dataclass(frozen=True)
class StudentTotal:
    """总分 of one student: the sum of the counted subjects; ``mean`` = total / counted."""

    total: Decimal | None
    counted: int
    excluded: tuple[str, ...]  # subjects left out: codes under "exclude" and blanks
    mean: Decimal | None
    policy: ScorePolicy

    @property
    def complete(self) -> bool:
        return not self.excluded

    @property
    def rankable(self) -> Decimal | None:
        """The total if it may be ranked under the policy."""
        return self.total if self.complete or self.policy.rank_incomplete else None


def student_total(
    results: Mapping[str, Result],
    subjects: Sequence[str] | None = None,
    policy: ScorePolicy = DEFAULT_POLICY,
) -> StudentTotal:
    """Total over ``subjects`` (default: every subject in ``results``); a listed subject
    without a result is left out and makes the total incomplete."""
    names = list(results) if subjects is None else list(subjects)
    counted: list[Decimal] = []
    excluded: list[str] = []
    for name in names:
        value = policy.counted(results.get(name))
        if value is None:
            excluded.append(name)
        else:
            counted.append(value)
    total = _sum(counted) if counted else None
    return StudentTotal(total, len(counted), tuple(excluded), _mean(counted), policy)


# --- subject statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectLines:
    """及格线 and 优秀线 of one paper, in points."""

    pass_line: Decimal
    excellent_line: Decimal

    def __post_init__(self) -> None:
        if self.pass_line > self.excellent_line:
            raise ValueError("the pass line cannot be above the excellent line")


def default_lines(
    full_mark: Decimal | int, pass_percent: int = 60, excellent_percent: int = 85
) -> SubjectLines:
    """Lines as percentages of the full mark: 60 % and 85 % (100 → 60 / 85, 150 → 90 / 127.5)."""
    top = _full_mark(full_mark)
    return SubjectLines(
        _CONTEXT.divide(_CONTEXT.multiply(top, Decimal(pass_percent)), _HUNDRED),
        _CONTEXT.divide(_CONTEXT.multiply(top, Decimal(excellent_percent)), _HUNDRED),
    )


@dataclass(frozen=True)
class Bin:
    """One bar of a score distribution: ``lower <= score < upper`` (``<= upper`` in the top bin)."""

    lower: Decimal
    upper: Decimal
    count: int
    upper_inclusive: bool


def bin_edges(full_mark: Decimal | int, width: Decimal | int | None = None) -> list[Decimal]:
    """Lower edges 0, w, 2w … below the full mark; default width: a tenth of the full mark."""
    top = _full_mark(full_mark)
    step = _CONTEXT.divide(top, Decimal(10)) if width is None else Decimal(width)
    if not step.is_finite() or step <= 0:
        raise ValueError(f"bin width must be positive, got {width!r}")
    edges: list[Decimal] = []
    edge = Decimal(0)
    while edge < top:
        edges.append(edge)
        edge = _CONTEXT.add(edge, step)
    return edges


def distribution(
    scores: Iterable[Decimal], full_mark: Decimal | int, edges: Sequence[Decimal] | None = None
) -> tuple[Bin, ...]:
    """Count scores per bin; ``edges`` are the lower edges (first 0, increasing, below the full
    mark), default ``bin_edges(full_mark)``. The last bin includes the full mark."""
    top = _full_mark(full_mark)
    lows = list(bin_edges(top) if edges is None else edges)
    if not lows or lows[0] != 0 or lows[-1] >= top or any(a >= b for a, b in pairwise(lows)):
        raise ValueError("bin edges must start at 0, increase and stay below the full mark")
    highs = [*lows[1:], top]
    counts = [0] * len(lows)
    for score in scores:
        for index in range(len(lows) - 1, -1, -1):
            if score >= lows[index]:
                counts[index] += 1
                break
    last = len(lows) - 1
    return tuple(
        Bin(lows[i], highs[i], counts[i], upper_inclusive=i == last) for i in range(len(lows))
    )


@dataclass(frozen=True)
class SubjectStats:
    """One subject over a class or grade. Rates are fractions (0..1) of ``counted``."""

    entries: int  # results given, codes included
    counted: int  # in the statistics (scores, plus codes counted as 0)
    absent: int
    exempt: int
    cheating: int
    blank: int  # nothing entered (None)
    mean: Decimal | None
    stdev: Decimal | None  # population standard deviation
    maximum: Decimal | None
    minimum: Decimal | None
    pass_count: int
    excellent_count: int
    pass_rate: Decimal | None
    excellent_rate: Decimal | None
    lines: SubjectLines
    distribution: tuple[Bin, ...]
    policy: ScorePolicy


def subject_stats(
    results: Iterable[Result],
    full_mark: Decimal | int,
    *,
    policy: ScorePolicy = DEFAULT_POLICY,
    lines: SubjectLines | None = None,
    edges: Sequence[Decimal] | None = None,
) -> SubjectStats:
    """Mean, population σ, max/min, 及格率 and 优秀率 (score >= line), and the distribution."""
    top = _full_mark(full_mark)
    chosen = default_lines(top) if lines is None else lines
    codes = dict.fromkeys(ScoreCode, 0)
    blank = entries = 0
    counted: list[Decimal] = []
    for result in results:
        if result is None:
            blank += 1
            continue
        entries += 1
        if not isinstance(result, Decimal):
            codes[ScoreCode(result)] += 1
        value = policy.counted(result)
        if value is not None:
            counted.append(value)
    passed = sum(1 for v in counted if v >= chosen.pass_line)
    excellent = sum(1 for v in counted if v >= chosen.excellent_line)
    size = Decimal(len(counted))
    return SubjectStats(
        entries=entries,
        counted=len(counted),
        absent=codes[ScoreCode.ABSENT],
        exempt=codes[ScoreCode.EXEMPT],
        cheating=codes[ScoreCode.CHEATING],
        blank=blank,
        mean=_mean(counted),
        stdev=population_stdev(counted),
        maximum=max(counted) if counted else None,
        minimum=min(counted) if counted else None,
        pass_count=passed,
        excellent_count=excellent,
        pass_rate=_CONTEXT.divide(Decimal(passed), size) if counted else None,
        excellent_rate=_CONTEXT.divide(Decimal(excellent), size) if counted else None,
        lines=chosen,
        distribution=distribution(counted, top, edges),
        policy=policy,
    )


def subject_stats_by_group(
    results: Mapping[K, Result],
    group_of: Mapping[K, Hashable],
    full_mark: Decimal | int,
    *,
    policy: ScorePolicy = DEFAULT_POLICY,
    lines: SubjectLines | None = None,
    edges: Sequence[Decimal] | None = None,
) -> dict[Hashable, SubjectStats]:
    """``subject_stats`` per class (``group_of``: student → class); students without a group
    are skipped. For the grade, call ``subject_stats`` on all results."""
    groups: dict[Hashable, list[Result]] = {}
    for student, result in results.items():
        if student in group_of:
            groups.setdefault(group_of[student], []).append(result)
    return {
        group: subject_stats(values, full_mark, policy=policy, lines=lines, edges=edges)
        for group, values in groups.items()
    }


# --- ranks -----------------------------------------------------------------------------------

RankMode = Literal["competition", "dense"]
COMPETITION: Final = "competition"
DENSE: Final = "dense"


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int)


def _sort_key(value: Rankable, descending: bool) -> tuple[int, Decimal | int | float]:
    """Ascending sort puts better first; anything that is not a number comes last."""
    if not _is_number(value):
        return (1, 0)
    assert isinstance(value, Decimal | int | float)
    return (0, -value if descending else value)


def rank(
    values: Sequence[Rankable],
    mode: RankMode = COMPETITION,
    *,
    descending: bool = True,
    tie_breaks: Sequence[Sequence[Rankable]] = (),
) -> list[int | None]:
    """Rank of each value (same order as ``values``); None for values that are not numbers.

    ``tie_breaks``: further columns, parallel to ``values``, compared in order when values
    are equal (same direction; a missing value there comes after any number). Competition:
    1 + the number of strictly better rows; dense: 1 + the number of distinct better keys.
    """
    if mode not in (COMPETITION, DENSE):
        raise ValueError(f"rank mode must be 'competition' or 'dense', got {mode!r}")
    for column in tie_breaks:
        if len(column) != len(values):
            raise ValueError("every tie-break column must be as long as the values")
    keyed = [
        (tuple(_sort_key(col[i], descending) for col in (values, *tie_breaks)), i)
        for i, value in enumerate(values)
        if _is_number(value)
    ]
    keyed.sort(key=lambda item: item[0])
    ranks: list[int | None] = [None] * len(values)
    previous: tuple[tuple[int, Decimal | int | float], ...] | None = None
    current = 0
    for position, (key, index) in enumerate(keyed, start=1):
        if key != previous:
            current = position if mode == COMPETITION else current + 1
            previous = key
        ranks[index] = current
    return ranks


def rank_by_key(
    values: Mapping[K, Rankable],
    mode: RankMode = COMPETITION,
    *,
    descending: bool = True,
    tie_breaks: Sequence[Mapping[K, Rankable]] = (),
    group_of: Mapping[K, Hashable] | None = None,
) -> dict[K, int | None]:
    """``rank`` on a mapping (student → value), within each group of ``group_of`` (student →
    class: 班级排名) or over everyone (年级排名). Students without a group get no rank."""
    groups: dict[Hashable, list[K]] = {}
    for key in values:
        if group_of is None:
            groups.setdefault(None, []).append(key)
        elif key in group_of:
            groups.setdefault(group_of[key], []).append(key)
    ranks: dict[K, int | None] = dict.fromkeys(values)
    for members in groups.values():
        columns = [[column.get(k) for k in members] for column in tie_breaks]
        own = rank([values[k] for k in members], mode, descending=descending, tie_breaks=columns)
        ranks.update(zip(members, own, strict=True))
    return ranks


TOTAL: Final = "总分"
# A tie key: TOTAL, one subject, or a tuple of subjects whose scores are summed (语数总分).
TieKey: TypeAlias = str | tuple[str, ...]
# 高考-style order from DOMAIN.md §6.2 (subject names as a school spells them).
GAOKAO_TIE_BREAK: Final[tuple[TieKey, ...]] = (TOTAL, ("语文", "数学"), "语文", "数学", "外语")


@dataclass(frozen=True)
class StudentRank:
    total: StudentTotal
    class_rank: int | None
    grade_rank: int | None


def _key_value(
    key: TieKey, results: Mapping[str, Result], total: StudentTotal, policy: ScorePolicy
) -> Decimal | None:
    if key == TOTAL:
        return total.rankable
    names = (key,) if isinstance(key, str) else key
    parts = [policy.counted(results.get(name)) for name in names]
    if any(part is None for part in parts):
        return None
    return _sum(p for p in parts if p is not None)


def rank_students(
    sheet: Mapping[K, Mapping[str, Result]],
    *,
    subjects: Sequence[str] | None = None,
    order: Sequence[TieKey] = (TOTAL,),
    mode: RankMode = COMPETITION,
    policy: ScorePolicy = DEFAULT_POLICY,
    class_of: Mapping[K, Hashable] | None = None,
) -> dict[K, StudentRank]:
    """Totals and class and grade ranks of an exam (student → subject → result).

    ``order[0]`` is what is ranked (default the total over ``subjects``); the other keys
    break ties, e.g. ``GAOKAO_TIE_BREAK``. ``class_of`` gives class ranks (None otherwise).
    """
    if not order:
        raise ValueError("order needs at least one key")
    totals = {s: student_total(results, subjects, policy) for s, results in sheet.items()}
    columns = [{s: _key_value(key, sheet[s], totals[s], policy) for s in sheet} for key in order]
    primary: dict[K, Rankable] = dict(columns[0])
    breaks: list[Mapping[K, Rankable]] = list(columns[1:])
    grade_ranks = rank_by_key(primary, mode, tie_breaks=breaks)
    class_ranks: Mapping[K, int | None] = (
        rank_by_key(primary, mode, tie_breaks=breaks, group_of=class_of)
        if class_of is not None
        else {}
    )
    return {s: StudentRank(totals[s], class_ranks.get(s), grade_ranks[s]) for s in sheet}


# --- grade bands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """One level of an 等级制 scale; ``min_percent``: lowest score as % of the full mark."""

    code: str
    zh: str
    en: str
    min_percent: Decimal


@dataclass(frozen=True)
class BandScale:
    """Levels best first; cut points strictly decreasing, the last one 0."""

    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        cuts = [band.min_percent for band in self.bands]
        if len(cuts) < 2 or cuts[-1] != 0 or cuts[0] > _HUNDRED:
            raise ValueError("a band scale needs 2+ levels, the last starting at 0 %")
        if any(a <= b for a, b in pairwise(cuts)):
            raise ValueError("band cut points must decrease strictly")
        if len({band.code for band in self.bands}) != len(self.bands):
            raise ValueError("band codes must be unique")

    def with_cuts(self, cuts: Sequence[Decimal | int]) -> BandScale:
        """The same levels with other cut points (percent of the full mark, best first)."""
        if len(cuts) != len(self.bands):
            raise ValueError(f"{len(self.bands)} cut points needed, got {len(cuts)}")
        return BandScale(
            tuple(
                Band(b.code, b.zh, b.en, Decimal(cut))
                for b, cut in zip(self.bands, cuts, strict=True)
            )
        )

    def band(self, result: Result, full_mark: Decimal | int) -> Band | ScoreCode | None:
        """The level of a score; codes and blanks come back unchanged."""
        if not isinstance(result, Decimal):
            return result
        top = _full_mark(full_mark)
        for band in self.bands:
            if _CONTEXT.multiply(result, _HUNDRED) >= _CONTEXT.multiply(band.min_percent, top):
                return band
        return self.bands[-1]


def _scale(*levels: tuple[str, str, str, int]) -> BandScale:
    return BandScale(tuple(Band(c, zh, en, Decimal(p)) for c, zh, en, p in levels))


# A 优秀, B 良好, C 合格, D 待合格 (DOMAIN.md §5 and §6.2): one scale, two ways of writing it.
FOUR_LEVELS: Final = _scale(
    ("A", "优秀", "Excellent", 90),
    ("B", "良好", "Good", 80),
    ("C", "合格", "Pass", 60),
    ("D", "待合格", "Not yet passing", 0),
)
FIVE_LEVELS: Final = _scale(
    ("A", "优秀", "Excellent", 90),
    ("B", "良好", "Good", 80),
    ("C", "中等", "Fair", 70),
    ("D", "合格", "Pass", 60),
    ("E", "待合格", "Not yet passing", 0),
)


# --- 2021 exam rules and what parents see ----------------------------------------------------


class ExamType(StrEnum):
    MIDTERM = "期中"
    FINAL = "期末"
    MONTHLY = "月考"
    WEEKLY = "周考"
    UNIT = "单元测验"
    QUIZ = "平时测验"
    MOCK = "模拟考"
    PROFICIENCY = "学业水平考试"
    ZHONGKAO = "中考"
    GAOKAO = "高考"


# Set by an exam authority, not by the school: the score always reaches the candidate.
PUBLIC_EXAMS: Final[frozenset[ExamType]] = frozenset(
    {ExamType.PROFICIENCY, ExamType.ZHONGKAO, ExamType.GAOKAO}
)
# 2021 notice: no 周考, 月考, 单元考试 in 义务教育; a 平时测验 held as a paper exam is one of them.
_BANNED_IN_COMPULSORY: Final[frozenset[ExamType]] = frozenset(
    {ExamType.WEEKLY, ExamType.MONTHLY, ExamType.UNIT, ExamType.QUIZ}
)
BAND_ONLY_GRADES: Final[frozenset[str]] = frozenset({"11", "12"})  # 一、二年级


def parse_exam_type(value: str) -> ExamType | None:
    try:
        return ExamType(to_halfwidth(value).strip())
    except ValueError:
        return None


def check_exam_type(
    grade_code: str,
    exam_type: ExamType | str,
    *,
    primary_years: int = 6,
    field: str = "exam_type",
) -> list[Violation]:
    """School exams the 2021 notice forbids: any paper exam in grades 1–2
    (``exam.no_paper_exams``); 周考/月考/单元测验/平时测验 in 义务教育, 期中 in primary school, mock exams
    outside the graduating grade of 初中 (``exam.type_not_allowed``). Senior high: no limits."""
    grade = grade_by_code(grade_code)
    if grade is None:
        return [Violation("code.unknown", "grade", {"value": grade_code})]
    kind = parse_exam_type(exam_type)
    if kind is None:
        return [Violation("code.unknown", field, {"value": exam_type})]
    params = {"grade_zh": grade.name_zh, "grade_en": grade.name_en, "exam_type": kind.value}
    if grade.stage == "senior" or not grade_exists(grade, primary_years):
        return []
    if grade.code in BAND_ONLY_GRADES:
        return [Violation("exam.no_paper_exams", field, params)]
    graduating = grade.year == stage_length(grade.stage, primary_years)
    banned = (
        kind in _BANNED_IN_COMPULSORY
        or (kind is ExamType.MIDTERM and grade.stage == "primary")
        or (kind is ExamType.MOCK and not (grade.stage == "junior" and graduating))
    )
    return [Violation("exam.type_not_allowed", field, params)] if banned else []


@dataclass(frozen=True)
class ParentView:
    """What a parent may see of one exam result."""

    band: bool
    score: bool
    rank: bool


@dataclass(frozen=True)
class ParentVisibility:
    """Policy: what parents see, by grade and exam type.

    * ``band_only_grades`` (default 一、二年级): the level only — no score, no rank.
    * other 义务教育 grades: level; the score if ``compulsory_scores`` or the exam is a public
      one (学业水平考试, 中考); ranks only if ``compulsory_ranks`` (2021: 不排名).
    * 高中: level and score; ranks if ``senior_ranks``.
    * unknown grade codes get the most restrictive view; unknown exam types count as school
      exams.
    """

    band_only_grades: frozenset[str] = BAND_ONLY_GRADES
    compulsory_scores: bool = True
    compulsory_ranks: bool = False
    senior_ranks: bool = True

    def __call__(self, grade_code: str, exam_type: ExamType | str) -> ParentView:
        kind = parse_exam_type(exam_type)
        grade = grade_by_code(grade_code)
        if grade is None or grade.code in self.band_only_grades:
            return ParentView(band=True, score=False, rank=False)
        if grade.stage == "senior":
            return ParentView(band=True, score=True, rank=self.senior_ranks)
        score = self.compulsory_scores or kind in PUBLIC_EXAMS
        return ParentView(band=True, score=score, rank=self.compulsory_ranks)


DEFAULT_PARENT_VISIBILITY: Final = ParentVisibility()
