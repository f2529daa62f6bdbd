"""Walk the audit chain in id order and say which entries were edited, inserted or deleted.

* edited: the entry's content no longer hashes to its entry_hash;
* inserted: the entry has no hash (written outside the chain writer), or a sound entry after
  it links past it to an earlier entry;
* deleted: a sound entry's prev_hash matches no remaining entry, so what it followed is gone;
* anchor missing: an entry hash the operator recorded earlier (`--anchor`) is gone, which
  is how a deleted tail shows up (the chain alone cannot tell a truncated log from a short one).

Only entries whose own content checks out are trusted as witnesses for the links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from ..domain.messages import EN, Violation
from ..models import AuditLog
from .chain import GENESIS, HASHED_FIELDS, compute_hash

FIELD = "audit_entry"
BATCH = 2000


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | inserted | deleted | broken_link | anchor_missing
    entry_id: int | None
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def violation(self) -> Violation:
        return Violation(f"audit.{self.kind}", FIELD, {"id": self.entry_id, **self.params})

    def message(self, locale: str = EN) -> str:
        return self.violation().message(locale)


@dataclass
class VerifyReport:
    count: int = 0
    last_id: int | None = None
    last_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(connection: Connection, anchors: Sequence[str] = ()) -> VerifyReport:
    table = AuditLog.__table__
    report = VerifyReport()
    unhashed: list[int] = []
    edited: list[int] = []
    links: list[tuple[int, str, int | None]] = []  # (entry id, its prev_hash, entry before it)
    prev_id: int | None = None
    prev_hash = GENESIS
    result = connection.execution_options(yield_per=BATCH).execute(
        select(table).order_by(table.c.id)
    )
    for row in result.mappings():
        report.count += 1
        entry_id = row["id"]
        if row["entry_hash"] is None or row["prev_hash"] is None:
            unhashed.append(entry_id)
            continue
        if compute_hash({name: row[name] for name in HASHED_FIELDS}) != row["entry_hash"]:
            edited.append(entry_id)
        elif row["prev_hash"] != prev_hash:
            links.append((entry_id, row["prev_hash"], prev_id))
        prev_id, prev_hash = entry_id, row["entry_hash"]
        report.last_id, report.last_hash = entry_id, row["entry_hash"]

    inserted = set(unhashed)
    found: list[Problem] = []
    for entry_id, wanted, before in links:
        target = (
            0
            if wanted == GENESIS
            else connection.execute(
                select(func.min(table.c.id)).where(table.c.entry_hash == wanted)
            ).scalar()
        )
        if target is None:
            found.append(Problem("deleted", entry_id, {"previous": _ref(before)}))
        elif target < entry_id:
            skipped = connection.execute(
                select(table.c.id).where(
                    table.c.id > target, table.c.id < entry_id, table.c.entry_hash.is_not(None)
                )
            ).scalars()
            inserted.update(skipped)
        else:
            found.append(Problem("broken_link", entry_id, {"previous": _ref(before)}))
    found += [Problem("inserted", i) for i in inserted]
    found += [Problem("edited", i) for i in edited if i not in inserted]
    for anchor in anchors:
        hit = connection.execute(
            select(func.count()).select_from(table).where(table.c.entry_hash == anchor)
        ).scalar()
        if not hit:
            found.append(Problem("anchor_missing", None, {"anchor": anchor}))
    report.problems = sorted(found, key=lambda p: (p.entry_id is None, p.entry_id or 0, p.kind))
    return report


def _ref(entry_id: int | None) -> str:
    return f"#{entry_id}" if entry_id is not None else "—"
