"""Check-in at an activity: when an attendee was marked present (staff, in the console);
and when staff cancelled an activity (it is then no longer offered, nor can anyone sign up).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("cancelled_at")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("attended_at")
