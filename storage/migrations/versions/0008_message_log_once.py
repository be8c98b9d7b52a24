"""A platform message is logged once: a unique index on the inbound rows of the message log.

Older databases may hold the same inbound message twice (a retry handled after a crash);
the later copies keep their text but lose their message id before the index is built.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHERE = "direction = 'in' AND message_id IS NOT NULL"


def upgrade() -> None:
    op.execute(
        "UPDATE message_log SET message_id = NULL"
        f" WHERE {WHERE} AND id NOT IN ("
        f"SELECT MIN(id) FROM message_log WHERE {WHERE}"
        " GROUP BY channel, external_user_id, message_id)"
    )
    op.create_index(
        "uq_message_log_inbound",
        "message_log",
        ["channel", "external_user_id", "message_id"],
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_message_log_inbound", table_name="message_log")
