"""The staff console (工作台): staff sign in with a user name and an argon2id password hash;
``sessions_valid_from`` voids every session signed before it (set when the password
changes and when the staff member signs out). The console's queue filters
open requests by kind and status, so they get an index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("username", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("sessions_valid_from", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_unique_constraint("uq_staff_username", ["username"])


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("uq_staff_username", type_="unique")
        batch.drop_column("sessions_valid_from")
        batch.drop_column("password_hash")
        batch.drop_column("username")
