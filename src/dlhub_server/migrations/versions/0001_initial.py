"""The registry's first schema: accounts, groups, servables and their versions, tasks.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "group_members",
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    op.create_table(
        "servables",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_servables_owner_name"),
    )
    op.create_table(
        "servable_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "servable_id",
            sa.Integer(),
            sa.ForeignKey("servables.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("publication_date", sa.BigInteger(), nullable=False),
        sa.Column("visible_to", _JSON, nullable=False),
        sa.UniqueConstraint("servable_id", "version", name="uq_versions_number"),
    )
    op.create_index("ix_servable_versions_servable_id", "servable_versions", ["servable_id"])
    op.create_table(
        "version_files",
        sa.Column(
            "version_id",
            sa.String(36),
            sa.ForeignKey("servable_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_version_files_sha256", "version_files", ["sha256"])
    op.create_table(
        "version_access",
        sa.Column(
            "version_id",
            sa.String(36),
            sa.ForeignKey("servable_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("principal", sa.String(255), primary_key=True),
    )
    op.create_index("ix_version_access_principal", "version_access", ["principal"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("steps", _JSON, nullable=False),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
    )
    op.create_index("ix_tasks_owner_created", "tasks", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("version_access")
    op.drop_table("version_files")
    op.drop_table("servable_versions")
    op.drop_table("servables")
    op.drop_table("group_members")
    op.drop_table("groups")
    op.drop_table("tokens")
    op.drop_table("users")
