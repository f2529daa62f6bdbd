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
    groups: Iterable[tuple[str, Sequence[str], Sequence[str]]] = (),
) -> tuple[list[tuple[Any, ...]], int]:
    """Rows with small counts replaced by "<5" and the measures depending on them by None;
    with `groups` (measure, counts, group columns), a small count anywhere in a group withholds
    the measure in every row of that group (a share of a whole: the other shares would give
    the whole, hence the hidden count, back). Also returns the number of cells changed."""
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
    for g_target, g_deps, g_dims in groups:
        if g_target not in index or any(d not in index for d in g_dims):
            continue
        t = index[g_target]
        dep_idx = [index[d] for d in g_deps if d in index]
        dim_idx = [index[d] for d in g_dims]
        hit = {
            tuple(row[i] for i in dim_idx)
            for row in out
            if any(row[i] == SUPPRESSED for i in dep_idx)
        }
        for n, row in enumerate(out):
            if row[t] is not None and tuple(row[i] for i in dim_idx) in hit:
                out[n] = row[:t] + (None,) + row[t + 1 :]
                changed += 1
    return out, changed
