"""The staff queue's one statement (storage/workbench.py ``WorkbenchRepo.queue``), built
once for each shape of filter and kept: its values are bound parameters.

One statement answers a page of the queue: the page's ids (an index-only scan past the
offset), their rows, their people's names and districts and their owners' names, and the
count of the list (stopped at a cap) beside them. Building it anew for every page cost
about as much client time as running it (~1 ms a page, benchmarks/province.py); kept, a
page only binds its values. The rows are plain rows of the request's columns (no ORM
object to build for a list that changes nothing).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Integer, Select, String, bindparam, func, or_, select

from storage.models import Person, ServiceRequest, Staff
from storage.repos import CLOSED_STATUSES

__all__ = ["queue_statements"]

_REQUEST = ServiceRequest.__table__.c


@lru_cache(maxsize=64)
def queue_statements(
    *,
    status: bool,
    kinds: bool,
    district: bool,
    due_before: bool,
    due_on: bool,
    owner: str,
    by_date: bool,
) -> tuple[Select[Any], Select[Any]]:
    """(the page with its count, the count alone) for a shape of filter: which filters
    are set, ``owner`` "" (anyone), "nobody" or "mine" (or nobody's). Parameters: status,
    kinds, district, due_before, due_on, staff_id, upto (the cap + 1), offset, size."""
    query: Select[Any] = select(_REQUEST.id)
    if status:
        query = query.where(_REQUEST.status == bindparam("status", type_=String))
    else:
        query = query.where(_REQUEST.status.not_in(CLOSED_STATUSES))
    if kinds:
        query = query.where(_REQUEST.kind.in_(bindparam("kinds", expanding=True, type_=String)))
    if district:  # the request's own copy (migration 0023): no join to people
        query = query.where(_REQUEST.district == bindparam("district", type_=String))
    if due_before:
        query = query.where(_REQUEST.scheduled_date <= bindparam("due_before", type_=Date))
    if due_on:
        query = query.where(_REQUEST.scheduled_date == bindparam("due_on", type_=Date))
    if owner == "nobody":
        query = query.where(_REQUEST.assigned_staff_id.is_(None))
    elif owner == "mine":
        query = query.where(
            or_(
                _REQUEST.assigned_staff_id.is_(None),
                _REQUEST.assigned_staff_id == bindparam("staff_id", type_=Integer),
            )
        )
    upto = query.limit(bindparam("upto", type_=Integer)).subquery()
    total = select(func.count()).select_from(upto).scalar_subquery()
    # By date: the soonest appointment first, those without a day last (an index order).
    first = (_REQUEST.scheduled_date.asc().nulls_last(),) if by_date else ()
    order = (*first, _REQUEST.created_at, _REQUEST.id)
    ids = (
        query.order_by(*order)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("size", type_=Integer))
    )
    # Only their people's names and districts: no phone or ID number is decrypted for a
    # list that shows none.
    page = (
        select(
            *(c for c in _REQUEST if c.name != "district"),
            Person.name.label("person_name"),
            Person.district.label("person_district"),
            Staff.name.label("owner_name"),
            total.label("total"),
        )
        .outerjoin(Person, Person.id == _REQUEST.person_id)
        .outerjoin(Staff, Staff.id == _REQUEST.assigned_staff_id)
        .where(_REQUEST.id.in_(ids.scalar_subquery()))
        .order_by(*order)
    )
    return page, select(total)
