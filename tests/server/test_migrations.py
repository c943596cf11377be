"""The alembic migrations create exactly the schema the ORM describes, and run at startup."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from dlhub_server import tables  # noqa: F401  (registers the tables)
from dlhub_server.db import Base, make_engine, migrate


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/registry.sqlite3")
    migrate(engine)
    with engine.connect() as connection:
        # the search index's tables are made with raw DDL (FTS5) by migration 0003
        def ours(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
            return not (type_ in ("table", "index") and str(name).startswith("search_"))

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": ours}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert (
            connection.execute(text("select version_num from alembic_version")).scalar() == "0003"
        )
    engine.dispose()


def test_migrating_twice_changes_nothing_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/registry.sqlite3"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into users (username, password_hash, disabled, created_at) values ('a', 'x', 0, '2025-01-01')"
            )
        )
    engine.dispose()
    again = make_engine(url)
    migrate(again)
    with again.connect() as connection:
        assert connection.execute(text("select username from users")).scalar() == "a"
    assert set(inspect(again).get_table_names()) >= {
        "users",
        "servable_versions",
        "tasks",
        "alembic_version",
    }
    again.dispose()
