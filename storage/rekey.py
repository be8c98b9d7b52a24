"""Re-encrypting personal data with the current data key (``yinling keys rotate``).

Every column of type :class:`storage.crypto.Encrypted` is read row by row; values sealed
under another key are opened with theirs and sealed again under the current one, a batch
per transaction. Running it again changes nothing; the old key can be dropped from
``YINLING_DATA_KEYS`` once it reports nothing left under it.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import LargeBinary, Table, select, type_coerce, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.crypto import Encrypted, keyring
from storage.db import AsyncSession, Base

__all__ = ["encrypted_columns", "rotate", "sealed_under"]

BATCH = 500


def encrypted_columns() -> list[tuple[Table, str]]:
    """(table, column) of every encrypted column."""
    return [
        (table, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Encrypted)
    ]


async def sealed_under(sessions: async_sessionmaker[AsyncSession]) -> Counter[int]:
    """How many values each data key has sealed."""
    counts: Counter[int] = Counter()
    async with sessions() as session:
        for table, name in encrypted_columns():
            # The stored bytes, not the plain values.
            rows = await session.execute(select(type_coerce(table.c[name], LargeBinary())))
            counts.update(bytes(value)[0] for (value,) in rows if value is not None)
    return counts


async def rotate(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Seal again, under the current key, every value sealed under another; how many."""
    ring, changed = keyring(), 0
    for table, name in encrypted_columns():
        column = table.c[name]
        context = f"{table.name}.{name}"
        last = 0
        while True:
            async with sessions() as session:
                rows = (
                    await session.execute(
                        select(table.c.id, type_coerce(column, LargeBinary()))
                        .where(table.c.id > last, column.is_not(None))
                        .order_by(table.c.id)
                        .limit(BATCH)
                    )
                ).all()
                if not rows:
                    break
                for row_id, sealed in rows:
                    data = bytes(sealed)
                    if data[0] != ring.current:
                        plain = ring.decrypt(data, context)
                        await session.execute(
                            update(table).where(table.c.id == row_id).values({name: plain})
                        )
                        changed += 1
                last = rows[-1][0]
                await session.commit()
    return changed
