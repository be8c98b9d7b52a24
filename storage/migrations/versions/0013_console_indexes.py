"""The console's lists at size (benchmarks/console.py: 10,000 people, 100,000 requests):
the open queue, longest waiting first, read from a partial index over the open requests
alone (a few thousand of 100,000) instead of a scan and sort of the whole table; one
status's requests in the same order; a hand-off's last messages and last inbound time by
account (a scan of the whole message log for an account that wrote little); the audit log
filtered by action or by actor, newest first (it grows with every file viewed: at 500,000
entries a filtered page scanned it all, 50-100 ms).

The partial index's condition is storage.repos.CLOSED_STATUSES (the queue asks for
``status NOT IN`` them; PostgreSQL uses the index while that list holds these six).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"


def upgrade() -> None:
    op.create_index(
        "ix_service_requests_open_created_at",
        "service_requests",
        ["created_at", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_service_requests_status_created_at", "service_requests", ["status", "created_at", "id"]
    )
    op.create_index("ix_message_log_account", "message_log", ["account_id", "id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_index("ix_message_log_account", table_name="message_log")
    op.drop_index("ix_service_requests_status_created_at", table_name="service_requests")
    op.drop_index("ix_service_requests_open_created_at", table_name="service_requests")
