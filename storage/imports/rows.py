"""What an import would do, row by row (RowPlan, Plan), and the two steps every kind's
matcher shares: comparing a row with the record it matched, and refusing a row twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.imports.kinds import Kind

__all__ = ["Plan", "RowPlan", "compare", "twice"]


@dataclass(slots=True)
class RowPlan:
    """What one row would do."""

    row: int  # the sheet's row number (the heading is row 1 in a plain sheet)
    action: str  # add | update | same | error
    label: str = ""  # who or what the row is, for the report
    errors: list[tuple[str, str]] = field(default_factory=list)  # (heading, why)
    changes: list[str] = field(default_factory=list)  # headings of the fields that change
    values: dict[str, Any] = field(default_factory=dict)
    target: Any = None  # the matched record (update | same)


@dataclass(slots=True)
class Plan:
    """What an import would do, row by row."""

    kind: Kind
    rows: list[RowPlan]
    problems: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def ok(self) -> bool:
        """Whether it can be applied."""
        return not self.problems and all(r.action != "error" for r in self.rows)

    def count(self, action: str) -> int:
        """How many rows would do ``action``."""
        return sum(r.action == action for r in self.rows)


def compare(row: RowPlan, record: Any, kind: Kind, fields: Sequence[str]) -> None:
    """Mark the row update (with the changed headings) or same, against ``record``."""
    row.target = record
    for name in fields:
        if name not in row.values:
            continue
        new, old = row.values[name], getattr(record, name)
        if new is None:
            continue  # an empty cell leaves what is there
        if new != old:
            row.changes.append(kind.heading(name))
    row.action = "update" if row.changes else "same"


def twice(row: RowPlan, seen: dict[Any, int], key: Any, heading: str) -> bool:
    if key in seen:
        row.errors.append((heading, f"和第 {seen[key]} 行是同一条"))
        return True
    seen[key] = row.row
    return False
