"""Emergency alerts, their history, and the duty roster they page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_duty_shifts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    op.create_index(op.f("ix_duty_shifts_staff_id"), "duty_shifts", ["staff_id"])
    op.create_index("ix_duty_shifts_level_ends_at", "duty_shifts", ["level", "ends_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("next_page_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_alerts_request_id_service_requests"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_alerts_person_id_people")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["staff.id"], name=op.f("fk_alerts_acknowledged_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("request_id", name=op.f("uq_alerts_request_id")),
    )
    op.create_index(op.f("ix_alerts_person_id"), "alerts", ["person_id"])
    op.create_index("ix_alerts_status_next_page_at", "alerts", ["status", "next_page_at"])
    op.create_table(
        "alert_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_steps_alert_id_alerts")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_alert_steps_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_alert_steps_account_id_channel_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_steps")),
    )
    op.create_index(op.f("ix_alert_steps_alert_id"), "alert_steps", ["alert_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_steps_alert_id"), table_name="alert_steps")
    op.drop_table("alert_steps")
    op.drop_index("ix_alerts_status_next_page_at", table_name="alerts")
    op.drop_index(op.f("ix_alerts_person_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_duty_shifts_level_ends_at", table_name="duty_shifts")
    op.drop_index(op.f("ix_duty_shifts_staff_id"), table_name="duty_shifts")
    op.drop_table("duty_shifts")
