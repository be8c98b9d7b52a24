"""The message log, and telling a message handled twice from any other database error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import UnitRepo
from storage.models import MessageRecord

__all__ = ["INBOUND_INDEX", "DuplicateMessage", "MessageRepo", "is_duplicate_message"]

_MESSAGE_LOG = cast(Table, MessageRecord.__table__)
_LOG_COLUMNS = [c for c in _MESSAGE_LOG.columns if c.name != "id"]
# A message whose handler wrote nothing else (a greeting, an answer, a menu: 8 messages in
# 10 in benchmarks/pipeline.py) is logged without a session, on a pooled connection in
# autocommit, as one executemany of this statement: atomic by itself (one implicit
# transaction), one round trip, and with an asynchronous commit (PostgreSQL's
# synchronous_commit off, for this transaction only): no wait for the WAL to reach the disk,
# which on a busy disk was most of the latency tail. Should the database server itself
# crash, the transcript lines of its last moments (at most 3 x wal_writer_delay, 0.6 s by
# default) can be lost; nothing else can, and every service record (a booking, a sign-up, an
# alert) still commits synchronously. set_config(..., true) is local to the transaction, so
# the pooled connection stays synchronous. Measured in issue 19: BEGIN / INSERT / COMMIT
# (a session, or engine.begin()) costs some 0.5 ms more CPU per such message than the
# hand-made asyncpg call this replaced, over 20 % of a message's cost at 300 messages/s;
# this one plain Core statement costs 0.14 ms more, about 7 % (storage/db.py).
_LOG_INSERT_ASYNC_COMMIT = insert(_MESSAGE_LOG).from_select(
    [c.name for c in _LOG_COLUMNS],
    # (asyncpg is sent each parameter with its type, "$1::VARCHAR": never cut to a length)
    select(*[bindparam(c.name, type_=c.type) for c in _LOG_COLUMNS]).where(
        func.set_config("synchronous_commit", "off", True).is_not(None)
    ),
)


class DuplicateMessage(Exception):  # noqa: N818 - named for what happened
    """This platform message is already in the log: it was handled before (the unit that
    tried to log it again must roll back)."""


INBOUND_INDEX = "uq_message_log_inbound"


def is_duplicate_message(error: BaseException) -> bool:
    """Whether a database error is the message log's "this message is in already"."""
    if isinstance(error, DuplicateMessage):
        return True
    if isinstance(error, IntegrityError):
        error = error.orig if error.orig is not None else error
        # asyncpg (through SQLAlchemy's adapter) names the index; SQLite names the columns.
        cause = getattr(error, "__cause__", None)
        if getattr(cause, "constraint_name", None) == INBOUND_INDEX:
            return True
        said = str(error)
        return INBOUND_INDEX in said or "message_log.message_id" in said
    return False


class MessageRepo(UnitRepo):
    """The message log."""

    async def expire_text(self, before: datetime, batch: int = 1000) -> int:
        """Blank what people wrote (and media ids) in log lines older than ``before``; the
        lines themselves (kind, intent, times) and every service record stay. At most
        ``batch`` rows a call (the retention job calls again while a batch comes back full)."""
        found = list(
            await self.session.scalars(
                select(MessageRecord.id)
                .where(
                    MessageRecord.created_at < before,
                    or_(MessageRecord.text.is_not(None), MessageRecord.media_id.is_not(None)),
                )
                .order_by(MessageRecord.id)
                .limit(batch)
            )
        )
        if found:
            await self.session.execute(
                update(MessageRecord)
                .where(MessageRecord.id.in_(found))
                .values(text=None, media_id=None)
            )
        return len(found)

    def add(self, record: MessageRecord) -> None:
        """Log one message (written with the message's transaction)."""
        self.session.add(record)

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Log several messages at once (a message and its replies): a unit's last write.

        In the unit's transaction when it has one. A unit that touched nothing else writes
        the rows as one lone statement on a pooled connection, without opening a session;
        on PostgreSQL it commits asynchronously (see ``_LOG_INSERT_ASYNC_COMMIT``).
        """
        for row in rows:
            if row["created_at"].tzinfo is None:  # as UTCDateTime insists
                raise ValueError("naive datetime given to the message log")
        try:
            if self.unit.opened:
                await self.session.flush()  # what this unit wrote through the ORM goes first
                await self.session.execute(insert(_MESSAGE_LOG), rows)  # a Core executemany
                return
            engine = self.unit.engine
            if engine.dialect.name != "postgresql":
                async with engine.begin() as connection:
                    await connection.execute(insert(_MESSAGE_LOG), rows)
                return
            full = [{c.name: row.get(c.name) for c in _LOG_COLUMNS} for row in rows]
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(_LOG_INSERT_ASYNC_COMMIT, full)
        except IntegrityError as e:
            if is_duplicate_message(e):
                raise DuplicateMessage(str(rows[0].get("message_id"))) from e
            raise

    async def replies_to(
        self, channel: str, external_user_id: str, message_id: str
    ) -> list[MessageRecord]:
        """The replies logged for a message (to answer a retry of it the same way)."""
        rows = await self.session.scalars(
            select(MessageRecord)
            .where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
                MessageRecord.message_id == message_id,
                MessageRecord.direction == "out",
            )
            .order_by(MessageRecord.id)
        )
        return list(rows)

    async def recent(
        self, channel: str, external_user_id: str, limit: int = 10
    ) -> list[MessageRecord]:
        """The last messages of a conversation, oldest first."""
        rows = await self.session.scalars(
            select(MessageRecord)
            .where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
            )
            .order_by(MessageRecord.id.desc())
            .limit(limit)
        )
        return list(reversed(list(rows)))

    async def last_inbound(self, channel: str, external_user_id: str) -> datetime | None:
        """When the user last wrote (WeChat lets us answer freely for 48 hours after)."""
        value = await self.session.scalar(
            select(func.max(MessageRecord.created_at)).where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
                MessageRecord.direction == "in",
            )
        )
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)
