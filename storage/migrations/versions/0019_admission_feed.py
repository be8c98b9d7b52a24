"""Hospital-stay alerts pushed by hospitals (住院提醒 feed): one row per event an
organisation sent, unique per (organisation, event_id); the ID number sealed, with its
blind index; the clerk's list of waiting events by state.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admission_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("id_number", sa.LargeBinary(), nullable=True),
        sa.Column("id_index", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=40), nullable=True),
        sa.Column("hospital", sa.String(length=100), nullable=True),
        sa.Column("department", sa.String(length=60), nullable=True),
        sa.Column("ward", sa.String(length=40), nullable=True),
        sa.Column("bed", sa.String(length=20), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=True),
        sa.Column(
            "stay_request_id", sa.Integer(), sa.ForeignKey("service_requests.id"), nullable=True
        ),
        sa.Column(
            "task_request_id", sa.Integer(), sa.ForeignKey("service_requests.id"), nullable=True
        ),
        sa.Column("handled_by", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation", "event_id", name="uq_admission_events_organisation"),
    )
    op.create_index("ix_admission_events_state", "admission_events", ["state", "id"])
    op.create_index("ix_admission_events_id_index", "admission_events", ["id_index"])
    op.create_index("ix_admission_events_person_id", "admission_events", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_admission_events_person_id", table_name="admission_events")
    op.drop_index("ix_admission_events_id_index", table_name="admission_events")
    op.drop_index("ix_admission_events_state", table_name="admission_events")
    op.drop_table("admission_events")
