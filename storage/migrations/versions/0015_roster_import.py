"""The bureau's own data in (imports): people's ID numbers (sealed, with a blind index to
match re-imported rows on), and the sheets a clerk uploaded in the console, kept sealed
between checking and confirming (and removed after a day).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("id_number", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("id_index", sa.String(length=32), nullable=True))
        batch.create_index("ix_people_id_index", ["id_index"])
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("import_batches")
    with op.batch_alter_table("people") as batch:
        batch.drop_index("ix_people_id_index")
        batch.drop_column("id_index")
        batch.drop_column("id_number")
