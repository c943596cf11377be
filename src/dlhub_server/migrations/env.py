"""Alembic environment of the hub's registry.

``dlhub_server.db.migrate`` passes an open connection in ``config.attributes``;
run by hand (``alembic -x url=sqlite:///... upgrade head``) it connects itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dlhub_server import tables  # noqa: F401  (registers the tables on Base.metadata)
from dlhub_server.db import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database URL: alembic -x url=sqlite:///path/hub.sqlite3 ...")
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
