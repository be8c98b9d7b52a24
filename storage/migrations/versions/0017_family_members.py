"""The bureau's family list (导入 家属名单): a person's family members, their relation and
phone (sealed, with a blind index to match re-imported rows and binding phones on).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_family_members_person_id", "family_members", ["person_id"])
    op.create_index("ix_family_members_phone_index", "family_members", ["phone_index"])


def downgrade() -> None:
    op.drop_index("ix_family_members_phone_index", table_name="family_members")
    op.drop_index("ix_family_members_person_id", table_name="family_members")
    op.drop_table("family_members")
