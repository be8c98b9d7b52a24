"""What the bureau offers: partner hospitals, eldercare services and slots, policy articles."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from storage.db import AsyncSession
from storage.models import EldercareService, EldercareSlot, Hospital, PolicyArticle

__all__ = ["CatalogRepo"]


# The home services the bot books (code, name, description): the codes are what the NLU's
# service entity says. A bureau loads its slots for them (yinling import slots); a service
# missing from the database is added the first time a slot of it is imported.
STANDARD_SERVICES = (
    ("cleaning", "打扫卫生", "上门打扫卫生、擦窗、整理房间"),
    ("haircut", "理发", "理发师上门理发、修面"),
    ("bathing", "助浴", "护理员上门帮助洗澡"),
    ("meal", "送餐", "送午餐或晚餐上门"),
    ("repair", "家电水电维修", "水管、电灯、电器、门锁小修"),
    ("massage", "推拿理疗", "康复师上门推拿、理疗"),
    ("companionship", "陪伴聊天", "志愿者上门陪伴、读报、聊天"),
    ("counselling", "心理疏导", "心理咨询师上门或电话疏导"),
    ("nursing", "护理", "护士上门量血压、换药、护理"),
)


class CatalogRepo:
    """Hospitals, eldercare services and slots, and policy articles."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----------------------------------------------------------- hospitals
    async def hospitals(self) -> list[Hospital]:
        """All hospitals, green-channel partners first."""
        rows = await self.session.scalars(
            select(Hospital).order_by(Hospital.green_channel.desc(), Hospital.id)
        )
        return list(rows)

    async def hospital_by_name(self, name: str) -> Hospital | None:
        """A hospital by its name or one of its aliases."""
        for hospital in await self.hospitals():
            if name == hospital.name or name in hospital.aliases:
                return hospital
        return None

    # ----------------------------------------------------------- eldercare
    async def eldercare_services(self) -> list[EldercareService]:
        """Services that can be booked."""
        rows = await self.session.scalars(
            select(EldercareService).where(EldercareService.active).order_by(EldercareService.id)
        )
        return list(rows)

    async def eldercare_service(self, code: str) -> EldercareService | None:
        """One service by its code (cleaning, haircut …)."""
        return await self.session.scalar(
            select(EldercareService).where(EldercareService.code == code)
        )

    async def slot(self, service_id: int, day: date, part: str) -> EldercareSlot | None:
        """The slot of a service on a day and part of day, if offered."""
        return await self.session.scalar(
            select(EldercareSlot).where(
                EldercareSlot.service_id == service_id,
                EldercareSlot.day == day,
                EldercareSlot.part == part,
            )
        )

    async def open_slots(self, service_id: int, start: date, limit: int = 4) -> list[EldercareSlot]:
        """Slots with room from ``start`` on, soonest first."""
        rows = await self.session.scalars(
            select(EldercareSlot)
            .where(
                EldercareSlot.service_id == service_id,
                EldercareSlot.day >= start,
                EldercareSlot.booked < EldercareSlot.capacity,
            )
            .order_by(EldercareSlot.day, EldercareSlot.part.desc())
            .limit(limit)
        )
        return list(rows)

    async def take_slot(self, slot_id: int) -> bool:
        """Book one place in a slot if any is left (atomic: safe under concurrency)."""
        result = await self.session.execute(
            update(EldercareSlot)
            .where(EldercareSlot.id == slot_id, EldercareSlot.booked < EldercareSlot.capacity)
            .values(booked=EldercareSlot.booked + 1)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release_slot(self, slot_id: int) -> None:
        """Give a place in a slot back."""
        await self.session.execute(
            update(EldercareSlot)
            .where(EldercareSlot.id == slot_id, EldercareSlot.booked > 0)
            .values(booked=EldercareSlot.booked - 1)
        )

    # -------------------------------------------------------------- policy
    async def policy_articles(self) -> list[PolicyArticle]:
        """Every policy article."""
        rows = await self.session.scalars(select(PolicyArticle).order_by(PolicyArticle.id))
        return list(rows)

    async def policy_version(self) -> str:
        """Changes whenever an article is added, removed or edited (for caches)."""
        row = (
            await self.session.execute(
                select(func.count(PolicyArticle.id), func.max(PolicyArticle.updated_at))
            )
        ).one()
        return f"{row[0]}:{row[1]}"

    async def upsert_policy(self, article: PolicyArticle) -> PolicyArticle:
        """Insert an article, or update the one with the same slug."""
        existing = await self.session.scalar(
            select(PolicyArticle).where(PolicyArticle.slug == article.slug)
        )
        if existing is None:
            self.session.add(article)
            await self.session.flush()
            return article
        for column in (
            "title",
            "body",
            "source",
            "source_title",
            "region",
            "issuer",
            "effective",
            "caveat",
            "keywords",
            "questions",
            "updated_at",
        ):
            setattr(existing, column, getattr(article, column))
        await self.session.flush()
        return existing
