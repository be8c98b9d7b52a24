"""The staff queue at a province's size, second step: a district's view without a join.

The queue filtered by district joined ~30,000 open requests to the district's ~2,000
people (a hash or merge join over the whole open set: 8 ms for its count and as much again
for its page at 100,000 people). Each request now holds its person's district, kept in
step by the database itself, and a partial index of the open requests by (district,
created_at, id) answers a district's count and page from a few hundred index entries.

The database keeps it (every writer, the ORM's, an import's or a raw statement's, alike):

* a request filed, or its person or status changed, takes its person's district then
  (so a request opened again takes the district of today);
* a person's district changed is copied to their open requests (closed ones keep theirs:
  they are on no queue, and a province's 10^6 closed requests are not rewritten).

Only the open requests are filled in here, for the same reason. On SQLite the triggers
belong to the tables: a later migration that rebuilds ``service_requests`` or ``people``
(``batch_alter_table`` with a copy) must create them again (tests/storage/
test_workbench_queue.py fails otherwise).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# storage.repos.CLOSED_STATUSES, as in migrations 0013 and 0018.
OPEN = "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"

PG_UP = (
    """CREATE FUNCTION service_request_district() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.district := (SELECT p.district FROM people p WHERE p.id = NEW.person_id);
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tr_service_requests_district
    BEFORE INSERT OR UPDATE OF person_id, status ON service_requests
    FOR EACH ROW EXECUTE FUNCTION service_request_district()""",
    f"""CREATE FUNCTION person_district_to_requests() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE service_requests SET district = NEW.district
         WHERE person_id = NEW.id AND {OPEN};
        RETURN NULL;
    END $$""",  # noqa: S608 - constants
    """CREATE TRIGGER tr_people_district_to_requests
    AFTER UPDATE OF district ON people
    FOR EACH ROW WHEN (OLD.district IS DISTINCT FROM NEW.district)
    EXECUTE FUNCTION person_district_to_requests()""",
)
PG_DOWN = (
    "DROP TRIGGER IF EXISTS tr_people_district_to_requests ON people",
    "DROP FUNCTION IF EXISTS person_district_to_requests()",
    "DROP TRIGGER IF EXISTS tr_service_requests_district ON service_requests",
    "DROP FUNCTION IF EXISTS service_request_district()",
)
_OWN = """UPDATE service_requests
               SET district = (SELECT p.district FROM people p WHERE p.id = NEW.person_id)
             WHERE id = NEW.id;"""
SQLITE_UP = (
    f"""CREATE TRIGGER tr_service_requests_district_insert
    AFTER INSERT ON service_requests
    BEGIN
        {_OWN}
    END""",
    f"""CREATE TRIGGER tr_service_requests_district_update
    AFTER UPDATE OF person_id, status ON service_requests
    BEGIN
        {_OWN}
    END""",
    f"""CREATE TRIGGER tr_people_district_to_requests
    AFTER UPDATE OF district ON people
    WHEN OLD.district IS NOT NEW.district
    BEGIN
        UPDATE service_requests SET district = NEW.district
         WHERE person_id = NEW.id AND {OPEN};
    END""",  # noqa: S608 - constants
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS tr_people_district_to_requests",
    "DROP TRIGGER IF EXISTS tr_service_requests_district_update",
    "DROP TRIGGER IF EXISTS tr_service_requests_district_insert",
)


def upgrade() -> None:
    op.add_column("service_requests", sa.Column("district", sa.String(length=40), nullable=True))
    op.execute(
        f"""UPDATE service_requests SET district =
               (SELECT p.district FROM people p WHERE p.id = service_requests.person_id)
             WHERE person_id IS NOT NULL AND {OPEN}"""  # noqa: S608 - constants
    )
    op.create_index(
        "ix_service_requests_open_district",
        "service_requests",
        ["district", "created_at", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    for statement in PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_index("ix_service_requests_open_district", table_name="service_requests")
    op.drop_column("service_requests", "district")  # SQLite >= 3.35: no table copy
