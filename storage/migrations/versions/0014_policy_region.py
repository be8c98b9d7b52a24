"""policy_articles.issuer (发文机关), .effective (生效日期) and .caveat (提示): with the region
already there, every answer names who issued its rule, since when, and what the local
bureau's rules still decide; an article of another region is never this bureau's rule.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_articles") as batch:
        batch.add_column(sa.Column("issuer", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("effective", sa.Date(), nullable=True))
        batch.add_column(sa.Column("caveat", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_articles") as batch:
        batch.drop_column("caveat")
        batch.drop_column("effective")
        batch.drop_column("issuer")
