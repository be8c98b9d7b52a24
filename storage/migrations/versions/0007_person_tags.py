"""Tags on people (书画组, 党员志愿者…), to address broadcasts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_tags_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_tags")),
        sa.UniqueConstraint("person_id", "tag", name=op.f("uq_person_tags_person_id")),
    )
    op.create_index(op.f("ix_person_tags_person_id"), "person_tags", ["person_id"])
    op.create_index("ix_person_tags_tag", "person_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_person_tags_tag", table_name="person_tags")
    op.drop_index(op.f("ix_person_tags_person_id"), table_name="person_tags")
    op.drop_table("person_tags")
