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
    from dlhub_server.search import create_search_schema

    create_search_schema(op.get_bind())


def downgrade() -> None:
    from dlhub_server.search import drop_search_schema

    drop_search_schema(op.get_bind())
