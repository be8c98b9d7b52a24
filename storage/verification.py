"""Proving who a new user is: pending bindings (identity checks) and the attempt limits.

A user who gives a name and phone found on the roster gets a *pending* binding: the
account remembers whom it claims to be (``ChannelAccount.pending_person_id``) and an
``IdentityCheck`` row holds the one-time SMS code (encrypted) and the item in the staff's
queue. The check ends verified (the code typed back, a staff member's approval, or the
person's own bound account approving), rejected or cancelled.

Wrong codes and unmatched names are rows in ``code_attempts``; the limits count them per
channel user and over everyone within an hour, in the database (which is there whenever a
binding can be written at all).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from storage.db import AsyncSession
from storage.models import ChannelAccount, CodeAttempt, IdentityCheck

__all__ = [
    "PENDING",
    "SMS_OFF",
    "SMS_SENT",
    "SMS_TO_SEND",
    "VerificationRepo",
    "new_sms_code",
]

PENDING, VERIFIED, REJECTED, CANCELLED = "pending", "verified", "rejected", "cancelled"
SMS_TO_SEND, SMS_SENT, SMS_FAILED, SMS_OFF = "to_send", "sent", "failed", "off"
SMS_DIGITS = 6


def new_sms_code() -> str:
    """Six digits, as every bank and app sends; guesses are limited per code and user."""
    return f"{secrets.randbelow(10**SMS_DIGITS):0{SMS_DIGITS}d}"


class VerificationRepo:
    """Identity checks and the wrong-code counts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ checks
    async def open(
        self,
        account: ChannelAccount,
        person_id: int,
        now: datetime,
        *,
        code: str | None,
        code_valid: timedelta,
        request_id: int | None,
    ) -> IdentityCheck:
        """A pending binding of ``account`` to ``person_id`` (ending any earlier one)."""
        await self.session.execute(
            update(IdentityCheck)
            .where(IdentityCheck.account_id == account.id, IdentityCheck.status == PENDING)
            .values(status=CANCELLED, decided_at=now, decided_by="superseded", code=None)
        )
        check = IdentityCheck(
            account_id=account.id,
            person_id=person_id,
            status=PENDING,
            code=code,
            code_expires_at=now + code_valid if code else None,
            sms=SMS_TO_SEND if code else SMS_OFF,
            sends=0,
            request_id=request_id,
            created_at=now,
        )
        self.session.add(check)
        account.pending_person_id = person_id
        await self.session.flush()
        return check

    async def get(self, check_id: int) -> IdentityCheck | None:
        """One check by id."""
        return await self.session.get(IdentityCheck, check_id)

    async def pending_of(self, account_id: int) -> IdentityCheck | None:
        """The account's open check, if any."""
        return await self.session.scalar(
            select(IdentityCheck)
            .where(IdentityCheck.account_id == account_id, IdentityCheck.status == PENDING)
            .order_by(IdentityCheck.id.desc())
            .limit(1)
        )

    async def latest_pending_for(self, person_id: int, asker_id: int) -> IdentityCheck | None:
        """The newest pending binding to a person by an account other than ``asker_id``."""
        return await self.session.scalar(
            select(IdentityCheck)
            .where(
                IdentityCheck.person_id == person_id,
                IdentityCheck.status == PENDING,
                IdentityCheck.account_id != asker_id,
            )
            .order_by(IdentityCheck.id.desc())
            .limit(1)
        )

    async def by_request(self, request_id: int) -> IdentityCheck | None:
        """The check behind an item of the staff's queue."""
        return await self.session.scalar(
            select(IdentityCheck).where(IdentityCheck.request_id == request_id)
        )

    @staticmethod
    def code_matches(check: IdentityCheck, typed: str, now: datetime) -> bool | None:
        """True: right; False: wrong; None: the code has expired (or there is none)."""
        if not check.code or check.code_expires_at is None or check.code_expires_at <= now:
            return None
        return hmac.compare_digest(check.code.encode(), typed.encode())

    async def new_code(self, check: IdentityCheck, now: datetime, valid: timedelta) -> str:
        """A fresh code for the check (the old one no longer works), to be sent."""
        check.code = new_sms_code()
        check.code_expires_at = now + valid
        check.sms = SMS_TO_SEND
        await self.session.flush()
        return check.code

    async def decide(
        self, check: IdentityCheck, status: str, how: str, by: str, now: datetime
    ) -> None:
        """End a check; its code is erased."""
        check.status, check.how, check.decided_by, check.decided_at = status, how, by, now
        check.code = None
        account = await self.session.get(ChannelAccount, check.account_id)
        if account is not None and account.pending_person_id == check.person_id:
            account.pending_person_id = None
        await self.session.flush()

    async def to_send(self, limit: int = 50) -> list[IdentityCheck]:
        """Pending checks whose code is still to be sent by SMS."""
        rows = await self.session.scalars(
            select(IdentityCheck)
            .where(IdentityCheck.status == PENDING, IdentityCheck.sms == SMS_TO_SEND)
            .order_by(IdentityCheck.id)
            .limit(limit)
        )
        return list(rows)

    async def claim_send(self, check_id: int, now: datetime) -> IdentityCheck | None:
        """Take a code to send (once, whoever asks first); None if sent, ended or expired."""
        claimed = await self.session.execute(
            update(IdentityCheck)
            .where(
                IdentityCheck.id == check_id,
                IdentityCheck.status == PENDING,
                IdentityCheck.sms == SMS_TO_SEND,
                IdentityCheck.code_expires_at > now,
            )
            .values(sms="sending", sends=IdentityCheck.sends + 1)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        return await self.session.get(IdentityCheck, check_id)

    async def sent(self, check: IdentityCheck, ok: bool) -> None:
        """Record how the send went."""
        check.sms = SMS_SENT if ok else SMS_FAILED
        await self.session.flush()

    async def bound_accounts(self, person_id: int) -> list[ChannelAccount]:
        """The person's own active, fully bound accounts (themselves and family)."""
        rows = await self.session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.person_id == person_id,
                ChannelAccount.active,
                ChannelAccount.role.in_(("retiree", "family")),
            )
        )
        return list(rows)

    # ------------------------------------------------------------ attempt limits
    def miss(self, channel: str, external_id: str, kind: str, now: datetime) -> None:
        """Count one wrong code or unmatched name and phone."""
        self.session.add(CodeAttempt(channel=channel, external_id=external_id, kind=kind, at=now))

    async def misses(
        self,
        since: datetime,
        channel: str | None = None,
        external_id: str | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> tuple[int, datetime | None]:
        """How many misses since a moment (of one user, or everyone's) and the oldest one's
        time (when the count starts to go down)."""
        query = select(func.count(CodeAttempt.id), func.min(CodeAttempt.at)).where(
            CodeAttempt.at > since
        )
        if channel is not None and external_id is not None:
            query = query.where(
                CodeAttempt.channel == channel, CodeAttempt.external_id == external_id
            )
        if kinds:
            query = query.where(CodeAttempt.kind.in_(kinds))
        count, oldest = (await self.session.execute(query)).one()
        return int(count or 0), oldest

    async def forget_misses(self, before: datetime) -> int:
        """Drop counts older than any limit looks at."""
        done = await self.session.execute(delete(CodeAttempt).where(CodeAttempt.at < before))
        return int(getattr(done, "rowcount", 0) or 0)
