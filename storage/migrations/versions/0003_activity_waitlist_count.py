"""Activities count their waitlist, so a sign-up learns its place in one locked update.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "activities",
        sa.Column("waitlisted", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE activities SET waitlisted = (SELECT count(*) FROM registrations"
        " WHERE registrations.activity_id = activities.id AND status = 'waitlisted')"
    )


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("waitlisted")
