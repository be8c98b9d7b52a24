"""Each person's plan (一人一策), staff contact (一对一) and family doctor.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_plan_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("cadence", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_care_plan_items_person_id", "care_plan_items", ["person_id"])
    op.create_index("ix_care_plan_items_active_next_due", "care_plan_items", ["active", "next_due"])
    op.create_table(
        "care_contacts",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_care_contacts_staff_id", "care_contacts", ["staff_id"])
    op.create_table(
        "doctor_contracts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("doctor", sa.String(length=40), nullable=False),
        sa.Column("clinic", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("task_for", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_doctor_contracts_person_id", "doctor_contracts", ["person_id"])
    op.create_index("ix_doctor_contracts_valid_until", "doctor_contracts", ["valid_until"])


def downgrade() -> None:
    op.drop_index("ix_doctor_contracts_valid_until", table_name="doctor_contracts")
    op.drop_index("ix_doctor_contracts_person_id", table_name="doctor_contracts")
    op.drop_table("doctor_contracts")
    op.drop_index("ix_care_contacts_staff_id", table_name="care_contacts")
    op.drop_table("care_contacts")
    op.drop_index("ix_care_plan_items_active_next_due", table_name="care_plan_items")
    op.drop_index("ix_care_plan_items_person_id", table_name="care_plan_items")
    op.drop_table("care_plan_items")
