"""The bureau's own data in: rosters, staff, partner hospitals, activities, home-service slots
and the finance office's claim states, from the sheets bureaus keep (Chinese headings).

An import is planned before anything is written: every row is read, checked and matched
against the database, and the plan says for each row what would be added, what updated
(field by field), what is already so, and what is wrong and why (row and column). Only a
plan without errors is applied, all of it in the caller's one transaction; planning the
same file again then finds every row already so.

Rows are matched on what identifies them in the bureau's own sheets: a person by ID number
(its blind index), else by name and birth date, else by name and phone; a hospital by
name; an activity by title and start; a slot by service, day and part of day; a claim by
its number on the finance office's sheet; a staff member by user name, else by name and
phone; a family member by the person they belong to (ID number, else name and phone) and
their own phone. Messages are in Chinese: clerks read them (the CLI and the console print them).

cells.py reads a cell; kinds.py describes each kind of sheet; rows.py holds a plan; plans.py
plans and applies; retirees.py and bureau.py match and write each kind's rows.
"""

from __future__ import annotations

from storage.imports.cells import CellError, read_phone
from storage.imports.kinds import FAMILY, KINDS, PEOPLE, RELATIONS, Column, Kind
from storage.imports.plans import MAX_ROWS, apply, plan
from storage.imports.rows import Plan, RowPlan

__all__ = [
    "FAMILY",
    "KINDS",
    "MAX_ROWS",
    "PEOPLE",
    "RELATIONS",
    "CellError",
    "Column",
    "Kind",
    "Plan",
    "RowPlan",
    "apply",
    "plan",
    "read_phone",
]
