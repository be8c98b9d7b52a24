"""The must-visit ledger (五必访).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "must_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=20), nullable=False),
        sa.Column("occasion_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visited_by", sa.Integer(), nullable=True),
        sa.Column("visit_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_must_visits_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_must_visits_request_id_service_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_must_visits_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["visited_by"], ["staff.id"], name=op.f("fk_must_visits_visited_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_must_visits")),
        sa.UniqueConstraint(
            "person_id", "occasion", "occasion_date", name=op.f("uq_must_visits_person_id")
        ),
        sa.UniqueConstraint("request_id", name=op.f("uq_must_visits_request_id")),
    )
    op.create_index(op.f("ix_must_visits_person_id"), "must_visits", ["person_id"])
    op.create_index("ix_must_visits_due_date", "must_visits", ["due_date"])


def downgrade() -> None:
    op.drop_index("ix_must_visits_due_date", table_name="must_visits")
    op.drop_index(op.f("ix_must_visits_person_id"), table_name="must_visits")
    op.drop_table("must_visits")
