"""The search index (full text and typed fields) in the registry's own database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    import json

    import sqlalchemy as sa

    from dlhub_server.search import create_search_schema, index_version

    connection = op.get_bind()
    create_search_schema(connection)
    # index what was published before the index existed
    for (document,) in connection.execute(sa.text("select document from servable_versions")):
        index_version(connection, json.loads(document) if isinstance(document, str) else document)


def downgrade() -> None:
    from dlhub_server.search import drop_search_schema

    drop_search_schema(op.get_bind())
