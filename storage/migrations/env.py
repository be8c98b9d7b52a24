"""Alembic environment: migrations run on a connection handed in by ``storage.db``."""

from __future__ import annotations

from alembic import context

from storage import models  # noqa: F401 - registers the tables
from storage.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through storage.db.upgrade()/downgrade() or `yinling db`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
