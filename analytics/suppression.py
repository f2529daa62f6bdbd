"""Small-cell suppression: a count of people from 1 to 4 could identify someone, so it is
shown as the string "<5"; a measure computed from such a count (a rate, a mean, a share, a
year-on-year change) is withheld (None), since it would give the count back.

Zero is shown as 0 (an empty cell identifies nobody). Which measures count people and what
depends on them is declared in each metric's header (`suppress:` and `withhold:`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MIN_CELL", "SUPPRESSED", "is_small", "suppress_rows"]

MIN_CELL = 5
SUPPRESSED = "<5"


def is_small(value: object) -> bool:
    """A person count that must not be shown (1 to MIN_CELL - 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 < value < MIN_CELL


def suppress_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    counts: Iterable[str],
    withhold: Iterable[tuple[str, Sequence[str]]],
) -> tuple[list[tuple[Any, ...]], int]:
    """Rows with small counts replaced by "<5" and the measures depending on them by None;
    also the number of cells changed."""
    index = {c: i for i, c in enumerate(columns)}
    count_idx = [index[c] for c in counts if c in index]
    rules = [
        (index[target], [index[d] for d in deps if d in index])
        for target, deps in withhold
        if target in index
    ]
    out: list[tuple[Any, ...]] = []
    changed = 0
    for row in rows:
        values = list(row)
        small = set()
        for i in count_idx:
            if is_small(values[i]):
                values[i] = SUPPRESSED
                small.add(i)
                changed += 1
        if small:
            for target, deps in rules:
                if values[target] is not None and any(d in small for d in deps):
                    values[target] = None
                    changed += 1
        out.append(tuple(values))
    return out, changed
