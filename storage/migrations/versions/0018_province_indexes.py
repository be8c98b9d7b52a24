"""The staff queue at a province's size (benchmarks/province.py: 100,000 people, 1,000,000
requests, ~30,000 of them open): the queue's count and its filters read the open requests
from one narrow partial index alone (an index-only scan), not from the table; and people by
district from an index.

The queue's count is taken over a query joined to people (the join is removed, but the
request's ``person_id`` is still read): the index of migration 0013 (created_at, id) could
not answer it alone, so 30,000 rows were fetched from the table (20 ms) for every page.
This one also holds ``person_id`` and the columns the queue filters on (kind, an open
status, owner, appointment day), in the queue's order. A district filter joins people: an index on
(district, id) finds a district's people without a scan of the roster (50 ms at 100,000
people), and serves the console's list of districts too. The queue sorted by appointment
day reads the open requests in that order from a third index (a top-50 sort of 30,000
rows took 7 ms).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# storage.repos.CLOSED_STATUSES, as in migration 0013 (tests/console/test_indexes.py).
OPEN = "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
QUEUE_COLUMNS = [
    "created_at", "id", "person_id", "kind", "status", "assigned_staff_id", "scheduled_date",
]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_service_requests_open_queue",
        "service_requests",
        QUEUE_COLUMNS,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index("ix_people_district", "people", ["district", "id"])
    op.create_index(
        "ix_service_requests_open_by_date",
        "service_requests",
        ["scheduled_date", "created_at", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_service_requests_open_by_date", table_name="service_requests")
    op.drop_index("ix_people_district", table_name="people")
    op.drop_index("ix_service_requests_open_queue", table_name="service_requests")
