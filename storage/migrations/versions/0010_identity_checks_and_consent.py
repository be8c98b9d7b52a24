"""Bindings that prove who you are, consent, and the message log's retention.

channel_accounts gains the person a user claims to be until it is proven
(pending_person_id) and the privacy notice they agreed to (consent_version, consented_at);
identity_checks holds each pending binding (SMS code encrypted, the staff's queue item,
how it ended); code_attempts counts wrong codes for the attempt limits; message_log.at
gets an index on created_at for the retention job.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch:
        batch.add_column(sa.Column("pending_person_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("consent_version", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("consented_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_channel_accounts_pending_person", "people", ["pending_person_id"], ["id"]
        )
        batch.create_index("ix_channel_accounts_pending_person_id", ["pending_person_id"])
    op.create_table(
        "identity_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("channel_accounts.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("how", sa.String(length=12), nullable=True),
        sa.Column("code", sa.LargeBinary(), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("sms", sa.String(length=12), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("service_requests.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
    )
    op.create_index("ix_identity_checks_account_id", "identity_checks", ["account_id"])
    op.create_index("ix_identity_checks_person_id", "identity_checks", ["person_id"])
    op.create_index("ix_identity_checks_status_sms", "identity_checks", ["status", "sms"])
    op.create_table(
        "code_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_code_attempts_at", "code_attempts", ["at"])
    op.create_index("ix_code_attempts_user_at", "code_attempts", ["channel", "external_id", "at"])
    op.create_index("ix_message_log_created_at", "message_log", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_message_log_created_at", table_name="message_log")
    op.drop_table("code_attempts")
    op.drop_table("identity_checks")
    with op.batch_alter_table("channel_accounts") as batch:
        batch.drop_index("ix_channel_accounts_pending_person_id")
        batch.drop_constraint("fk_channel_accounts_pending_person", type_="foreignkey")
        batch.drop_column("consented_at")
        batch.drop_column("consent_version")
        batch.drop_column("pending_person_id")
