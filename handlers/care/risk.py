"""The risk level of a person (一人一策), from age, living alone, the health notes and recent
emergencies and hospital stays. Every rule is here, and each one that applies gives a
reason the console shows on the person's page.

Points: 90 and over 2, 80 and over 1; living alone 1 (2 at 80 and over); a serious
condition in the health notes 2, a chronic one 1; an emergency in the last 90 days 2 (two
or more: 3); a hospital stay in the last 180 days 1 (two or more: 2). Four points and more
is high, two or three medium, else low. A high level calls for weekly home care, a
monthly call, a quarterly visit and the family doctor's follow-up; medium for the last
three; low for the quarterly visit (``SUGGESTED``: the console shows what a plan lacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers import texts
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = [
    "ALERT_DAYS", "HIGH", "LOW", "MEDIUM", "STAY_DAYS", "SUGGESTED", "Risk", "assess", "risk_of",
]  # fmt: skip

HIGH, MEDIUM, LOW = "high", "medium", "low"
ALERT_DAYS = 90
STAY_DAYS = 180
OLD, VERY_OLD = 80, 90
HIGH_FROM, MEDIUM_FROM = 4, 2
# The plan items each level calls for (the console suggests those the plan lacks).
SUGGESTED = {
    HIGH: ("weekly_care", "monthly_call", "quarterly_visit", "doctor_followup"),
    MEDIUM: ("monthly_call", "quarterly_visit", "doctor_followup"),
    LOW: ("quarterly_visit",),
}
ALERT_KINDS = ("sos",)
STAY_KINDS = ("hospital_admission",)


@dataclass(frozen=True, slots=True)
class Risk:
    """A level (high | medium | low), its points, and the reason of each rule that applied."""

    level: str
    points: int
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        """高 / 中 / 低."""
        return texts.CARE_RISK_LEVELS[self.level]

    def missing(self, cadences: set[str]) -> list[str]:
        """The items this level calls for that a plan with these cadences lacks."""
        return [c for c in SUGGESTED[self.level] if c not in cadences]


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _words(notes: str | None, words: tuple[str, ...]) -> list[str]:
    return [w for w in words if notes and w in notes]


def assess(person: Person, today: date, alerts: int = 0, stays: int = 0) -> Risk:
    """Apply the rules to a person, with their emergencies (last 90 days) and hospital
    stays (last 180 days) counted by the caller."""
    points, reasons = 0, []

    def rule(gain: int, reason: str, **values: object) -> None:
        nonlocal points
        points += gain
        reasons.append(texts.CARE_REASONS[reason].format(**values))

    age = _age(person.birth_date, today)
    if age is not None and age >= VERY_OLD:
        rule(2, "age_90", age=age)
    elif age is not None and age >= OLD:
        rule(1, "age_80", age=age)
    if person.lives_alone:
        if age is not None and age >= OLD:
            rule(2, "alone_old")
        else:
            rule(1, "alone")
    serious = _words(person.health_notes, texts.CARE_HEALTH_SERIOUS)
    watch = _words(person.health_notes, texts.CARE_HEALTH_WATCH)
    if serious:
        rule(2, "health_serious", words=texts.CARE_SEPARATOR.join(serious))
    elif watch:
        rule(1, "health_watch", words=texts.CARE_SEPARATOR.join(watch))
    if alerts:
        rule(3 if alerts > 1 else 2, "alerts", days=ALERT_DAYS, n=alerts)
    if stays:
        rule(2 if stays > 1 else 1, "stays", days=STAY_DAYS, n=stays)
    level = HIGH if points >= HIGH_FROM else MEDIUM if points >= MEDIUM_FROM else LOW
    return Risk(level, points, tuple(reasons))


async def risk_of(uow: UnitOfWork, person: Person, now: datetime, today: date) -> Risk:
    """The person's risk, with their recent emergencies and hospital stays read."""
    alerts = await uow.care.recent(person.id, ALERT_KINDS, now - timedelta(days=ALERT_DAYS))
    stays = await uow.care.recent(person.id, STAY_KINDS, now - timedelta(days=STAY_DAYS))
    return assess(person, today, alerts, stays)
