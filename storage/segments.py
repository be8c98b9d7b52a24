"""A broadcast's segment: which keys it may have (checked before it is stored), a short
description for logs and the command line, and the query for its audience: the active
accounts of the people in it (storage/broadcasts.py fixes them as a broadcast's recipients;
the console counts them in a draft).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from storage.models import ChannelAccount, Person, PersonTag, Registration

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "SEGMENT_KEYS",
    "Accounts",
    "audience",
    "check_segment",
    "describe_segment",
]

# Channels a broadcast can reach (console accounts exist only in the demo).
CHANNELS = ("telegram", "wechat")
CATEGORIES = ("lixiu", "tuixiu")
SEGMENT_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "district": str,
    "category": str,
    "former_unit": str,
    "party_branch": str,
    "tag": str,  # people with this tag (person_tags)
    "lives_alone": bool,
    "min_age": int,
    "activity_id": int,  # people with a live registration (seat or waitlist) for it
    "person_ids": list,  # an explicit list
    "channel": str,  # only accounts on this channel
    "family": bool,  # their family members' accounts as well
}


def check_segment(segment: Mapping[str, Any]) -> dict[str, Any]:
    """The segment as stored, or ValueError naming what is wrong with it."""
    unknown = set(segment) - set(SEGMENT_KEYS)
    if unknown:
        raise ValueError(f"unknown segment keys: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for key, value in segment.items():
        kind = SEGMENT_KEYS[key]
        if value is None:
            continue
        # bool is an int in Python: a flag given as 1 or a number given as True is refused.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"segment {key} must be {getattr(kind, '__name__', kind)}")
        clean[key] = value
    if clean.get("category") not in (None, *CATEGORIES):
        raise ValueError(f"segment category must be one of {', '.join(CATEGORIES)}")
    if clean.get("channel") not in (None, *CHANNELS):
        raise ValueError(f"segment channel must be one of {', '.join(CHANNELS)}")
    if not 0 <= clean.get("min_age", 0) <= 130:  # noqa: PLR2004 - an age
        raise ValueError("segment min_age must be between 0 and 130")
    ids = clean.get("person_ids")
    if ids is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError("segment person_ids must be a list of ids")
    return clean


def describe_segment(segment: Mapping[str, Any]) -> str:
    """A short English description, for logs and the command line."""
    if not segment:
        return "everyone"
    return ", ".join(f"{k}={v}" for k, v in sorted(segment.items()))


Accounts = Select[int, int | None, str]  # account id, person id, channel


def _born_by(today: date, years: int) -> date:
    """The latest birth date of someone who is ``years`` old today."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def audience(segment: Mapping[str, Any], today: date) -> Accounts:
    """Active retiree (and, if asked, family) accounts of the people in the segment."""
    roles = ("retiree", "family") if segment.get("family") else ("retiree",)
    query: Accounts = (
        select(ChannelAccount.id, ChannelAccount.person_id, ChannelAccount.channel)
        .join(Person, Person.id == ChannelAccount.person_id)
        .where(
            ChannelAccount.active,
            ChannelAccount.role.in_(roles),
            ChannelAccount.channel.in_((segment["channel"],) if "channel" in segment else CHANNELS),
        )
    )
    for key in ("district", "category", "former_unit", "party_branch"):
        if key in segment:
            query = query.where(getattr(Person, key) == segment[key])
    if "lives_alone" in segment:
        query = query.where(Person.lives_alone.is_(bool(segment["lives_alone"])))
    if "min_age" in segment:
        query = query.where(Person.birth_date <= _born_by(today, int(segment["min_age"])))
    if "tag" in segment:
        query = query.where(
            Person.id.in_(select(PersonTag.person_id).where(PersonTag.tag == segment["tag"]))
        )
    if "person_ids" in segment:
        query = query.where(Person.id.in_([int(i) for i in segment["person_ids"]]))
    if "activity_id" in segment:
        query = query.where(
            Person.id.in_(
                select(Registration.person_id).where(
                    Registration.activity_id == int(segment["activity_id"]),
                    Registration.status != "cancelled",
                )
            )
        )
    return query
