"""Phone numbers encrypted at rest, with a blind index to find people by phone.

people.phone, people.emergency_phone and staff.phone become AES-GCM ciphertexts
(storage/crypto.py) under the keys the process was started with; people.phone_index holds
the HMAC of the normalised digits and replaces the plain index on people.phone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.crypto import blind, keyring, phone_digits

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = {"people": ("phone", "emergency_phone"), "staff": ("phone",)}


def _rewrite(table: str, columns: tuple[str, ...], seal: bool) -> None:
    """Copy each column into its counterpart ("<column>_new"), sealed or opened."""
    ring = keyring()
    bind = op.get_bind()
    extra = ["phone_index"] if table == "people" else []
    rows = sa.table(
        table,
        sa.column("id"),
        *(sa.column(c) for c in columns),
        *(sa.column(f"{c}_new") for c in columns),
        *(sa.column(c) for c in extra),
    )
    found = bind.execute(sa.select(rows.c.id, *(rows.c[c] for c in columns))).all()
    for row in found:
        values: dict[str, Any] = {}
        for column in columns:
            value = getattr(row, column)
            context = f"{table}.{column}"
            if value is None:
                values[f"{column}_new"] = None
            elif seal:
                values[f"{column}_new"] = ring.encrypt(str(value), context)
            else:
                values[f"{column}_new"] = ring.decrypt(bytes(value), context)
        if seal and extra:
            phone = row.phone
            values["phone_index"] = blind("phone", phone_digits(phone)) if phone else None
        bind.execute(rows.update().where(rows.c.id == row.id).values(**values))


def _swap(table: str, columns: tuple[str, ...], kind: Any) -> None:
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.drop_column(column)
            batch.alter_column(f"{column}_new", new_column_name=column, existing_type=kind)


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_index("ix_people_phone")
        batch.add_column(sa.Column("phone_index", sa.String(length=32), nullable=True))
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(f"{column}_new", sa.LargeBinary(), nullable=True))
        _rewrite(table, columns, seal=True)
        _swap(table, columns, sa.LargeBinary())
    op.create_index("ix_people_phone_index", "people", ["phone_index"])


def downgrade() -> None:
    op.drop_index("ix_people_phone_index", table_name="people")
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(f"{column}_new", sa.String(length=20), nullable=True))
        _rewrite(table, columns, seal=False)
        _swap(table, columns, sa.String(length=20))
    with op.batch_alter_table("people") as batch:
        batch.drop_column("phone_index")
        batch.create_index("ix_people_phone", ["phone"])
