"""Volunteers and the time bank (时间银行).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TZ_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("skills", sa.String(length=100), nullable=False),
        sa.Column("districts", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("registered_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", TZ_TIME, nullable=False),
        sa.Column("updated_at", TZ_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_volunteers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("person_id", name=op.f("uq_volunteers_person_id")),
    )
    op.create_table(
        "volunteer_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("offered_by", sa.String(length=40), nullable=False),
        sa.Column("offered_at", TZ_TIME, nullable=False),
        sa.Column("accepted_at", TZ_TIME, nullable=True),
        sa.Column("asked_at", TZ_TIME, nullable=True),
        sa.Column("confirmed_at", TZ_TIME, nullable=True),
        sa.Column("confirmed_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_volunteer_tasks_request_id_service_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_tasks_volunteer_id_volunteers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_tasks")),
        sa.UniqueConstraint("request_id", name=op.f("uq_volunteer_tasks_request_id")),
    )
    op.create_index("ix_volunteer_tasks_status", "volunteer_tasks", ["status"])
    op.create_table(
        "volunteer_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("created_at", TZ_TIME, nullable=False),
        sa.Column("answered_at", TZ_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["volunteer_tasks.id"],
            name=op.f("fk_volunteer_offers_task_id_volunteer_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_offers_volunteer_id_volunteers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_offers")),
        sa.UniqueConstraint("task_id", "volunteer_id", name=op.f("uq_volunteer_offers_task_id")),
    )
    op.create_index(op.f("ix_volunteer_offers_task_id"), "volunteer_offers", ["task_id"])
    op.create_index(op.f("ix_volunteer_offers_volunteer_id"), "volunteer_offers", ["volunteer_id"])
    op.create_table(
        "time_bank_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_request_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("created_at", TZ_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_time_bank_entries_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["volunteer_tasks.id"],
            name=op.f("fk_time_bank_entries_task_id_volunteer_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_request_id"],
            ["service_requests.id"],
            name=op.f("fk_time_bank_entries_redeemed_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_bank_entries")),
        sa.UniqueConstraint("task_id", name=op.f("uq_time_bank_entries_task_id")),
        sa.UniqueConstraint(
            "redeemed_request_id", name=op.f("uq_time_bank_entries_redeemed_request_id")
        ),
    )
    op.create_index(op.f("ix_time_bank_entries_person_id"), "time_bank_entries", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_time_bank_entries_person_id"), table_name="time_bank_entries")
    op.drop_table("time_bank_entries")
    op.drop_index(op.f("ix_volunteer_offers_volunteer_id"), table_name="volunteer_offers")
    op.drop_index(op.f("ix_volunteer_offers_task_id"), table_name="volunteer_offers")
    op.drop_table("volunteer_offers")
    op.drop_index("ix_volunteer_tasks_status", table_name="volunteer_tasks")
    op.drop_table("volunteer_tasks")
    op.drop_table("volunteers")
