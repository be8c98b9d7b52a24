"""Channel accounts (who writes from where) and the one-time codes that bind them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from storage.db import AsyncSession
from storage.models import BindingCode, ChannelAccount, MessageRecord, Person

__all__ = ["STAFF_CODE_MAX", "AccountRepo", "CodeRepo"]


class AccountRepo:
    """Channel accounts (WeChat, Telegram, console) and who they belong to."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def identify(
        self, channel: str, external_id: str
    ) -> tuple[ChannelAccount | None, Person | None]:
        """The account of a channel user and the person it is bound to, in one query.

        Every message that misses the identity cache asks this first. The objects are the
        session's; the unit detaches them when it ends, so they stay readable (the identity
        cache holds them): to change one later, load it in a unit's session.
        """
        row = (
            await self.session.execute(
                select(ChannelAccount, Person)
                .outerjoin(Person, Person.id == ChannelAccount.person_id)
                .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
            )
        ).first()
        if row is None:
            return None, None
        account, person = row
        return account, person if account.active else None

    async def get(self, account_id: int) -> ChannelAccount | None:
        """One account by id."""
        return await self.session.get(ChannelAccount, account_id)

    async def find(self, channel: str, external_id: str) -> ChannelAccount | None:
        """The account of a channel user, if known."""
        return await self.session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
            )
        )

    async def create_unbound(self, channel: str, external_id: str, now: datetime) -> ChannelAccount:
        """An account for a channel user not yet on the roster (to redeem a code with)."""
        account = await self.find(channel, external_id)
        if account is None:
            account = ChannelAccount(
                channel=channel, external_id=external_id, created_at=now, role="retiree"
            )
            self.session.add(account)
            await self.session.flush()
        return account

    async def forget(self, channel: str, external_id: str) -> ChannelAccount | None:
        """Remove a user's personal data (WeChat unsubscribe); their service records stay."""
        account = await self.find(channel, external_id)
        tombstone = "forgotten:" + secrets.token_hex(8)
        await self.session.execute(
            update(MessageRecord)
            .where(MessageRecord.channel == channel, MessageRecord.external_user_id == external_id)
            .values(external_user_id=tombstone, text=None, media_id=None)
        )
        if account is None:
            return None
        account.external_id = tombstone
        account.display_name = None
        account.active = False
        await self.session.flush()
        return account

    async def revoke(self, account: ChannelAccount, now: datetime) -> None:
        """Unbind an account from its person (staff revoked it): it is a stranger again and
        its next message starts binding afresh; what it did stays in the records."""
        account.person_id = None
        account.pending_person_id = None
        account.relation = None
        account.role = "retiree"
        account.bound_at = None
        await self.session.flush()

    async def deactivate(self, channel: str, external_id: str) -> bool:
        """Mark an account inactive (the user blocked the bot); True if it was active."""
        done = await self.session.execute(
            update(ChannelAccount)
            .where(
                ChannelAccount.channel == channel,
                ChannelAccount.external_id == external_id,
                ChannelAccount.active,
            )
            .values(active=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def staff_accounts(self) -> list[ChannelAccount]:
        """Active accounts of staff members."""
        rows = await self.session.scalars(
            select(ChannelAccount).where(ChannelAccount.role == "staff", ChannelAccount.active)
        )
        return list(rows)

    async def bind(
        self,
        channel: str,
        external_id: str,
        person_id: int,
        now: datetime,
        *,
        role: str = "retiree",
        relation: str | None = None,
        staff_id: int | None = None,
    ) -> ChannelAccount:
        """Create (or re-point) the account of a channel user to a person (or staff member)."""
        account = await self.find(channel, external_id)
        if account is None:
            account = ChannelAccount(
                channel=channel, external_id=external_id, created_at=now, role=role
            )
            self.session.add(account)
        account.person_id = person_id if role != "staff" else None
        account.role = role
        account.relation = relation
        account.staff_id = staff_id
        account.active = True
        account.bound_at = now
        account.pending_person_id = None
        await self.session.flush()
        return account


STAFF_CODE_MAX = timedelta(hours=24)


class CodeRepo:
    """One-time binding codes issued by staff."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        now: datetime,
        issued_by: str,
        *,
        role: str,
        person_id: int | None = None,
        staff_id: int | None = None,
        relation: str | None = None,
        valid_for: timedelta = timedelta(days=7),
    ) -> BindingCode:
        """A fresh code (digits only, so it fits a WeChat QR scene id as well). A staff
        code is valid for at most ``STAFF_CODE_MAX`` (it gives the staff role)."""
        if role == "staff":
            valid_for = min(valid_for, STAFF_CODE_MAX)
        code = BindingCode(
            code=f"{secrets.randbelow(10**8):08d}",
            person_id=person_id,
            staff_id=staff_id,
            role=role,
            relation=relation,
            issued_by=issued_by,
            created_at=now,
            expires_at=now + valid_for,
        )
        self.session.add(code)
        await self.session.flush()
        return code

    async def redeem(self, code: str, account_id: int, now: datetime) -> BindingCode | None:
        """Use a code once; None if it is unknown, used or expired (atomic under concurrency)."""
        claimed = await self.session.execute(
            update(BindingCode)
            .where(
                BindingCode.code == code,
                BindingCode.used_at.is_(None),
                BindingCode.expires_at > now,
            )
            .values(used_at=now, used_by_account_id=account_id)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        return await self.session.scalar(select(BindingCode).where(BindingCode.code == code))

    async def state(self, code: str, now: datetime) -> tuple[str, str | None]:
        """(``usable`` | ``spent`` (used or expired) | ``unknown`` (never issued: wrong),
        the role the code gives)."""
        found = await self.session.scalar(select(BindingCode).where(BindingCode.code == code))
        if found is None:
            return "unknown", None
        usable = found.used_at is None and found.expires_at > now
        return ("usable" if usable else "spent"), found.role
