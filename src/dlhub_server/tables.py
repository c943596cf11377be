"""The registry's tables (SQLAlchemy 2 ORM).

The migration ``migrations/versions/0001_initial.py`` creates the same schema; a
test compares the two, so a change here needs a new migration.

- ``users``, ``tokens``: local accounts and their bearer tokens (only hashes stored).
- ``groups``, ``group_members``: named sets of users, used by visibility.
- ``servables``: one row per ``owner/name`` (kept after its versions are deleted,
  so a version number is never handed out twice).
- ``servable_versions``: the published documents, numbered 1, 2, 3... per servable.
- ``version_files``: each version's files (path in the zip -> SHA-256 of its bytes).
- ``version_access``: who may see each version (``public``, ``user:NAME``, ``group:NAME``),
  one row per entry of ``dlhub.visible_to``, so visibility filters run in SQL.
- ``tasks``: long-running work (publication, and later runs) with its steps and logs.
- ``task_data``: the encoded inputs and output of an asynchronous run (wire format bytes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dlhub_server.db import Base, JSONDocument, UTCDateTime, utcnow

__all__ = [
    "Group",
    "GroupMember",
    "Servable",
    "ServableVersion",
    "Task",
    "TaskData",
    "Token",
    "User",
    "VersionAccess",
    "VersionFile",
]


class User(Base):
    """A local account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Token(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class Group(Base):
    """A named set of users; ``owner`` (its creator) manages the members."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(lazy="joined")


class GroupMember(Base):
    """Membership of a user in a group."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Servable(Base):
    """One ``owner/name``; its versions hold the documents."""

    __tablename__ = "servables"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_servables_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    #: Highest version number ever given out (never decreases, even when versions are deleted).
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")


class ServableVersion(Base):
    """A published version: the full document as the hub completed it."""

    __tablename__ = "servable_versions"
    __table_args__ = (UniqueConstraint("servable_id", "version", name="uq_versions_number"),)

    #: The ``dlhub.id`` of the version (a UUID).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    servable_id: Mapped[int] = mapped_column(
        ForeignKey("servables.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    #: ``dlhub.type``: servable, dataset or pipeline.
    kind: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: Milliseconds since the epoch (``dlhub.publication_date``).
    publication_date: Mapped[int] = mapped_column(BigInteger)
    visible_to: Mapped[list[str]] = mapped_column(JSONDocument)

    servable: Mapped[Servable] = relationship(lazy="joined")
    files: Mapped[list[VersionFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="VersionFile.path"
    )
    access: Mapped[list[VersionAccess]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class VersionFile(Base):
    """One file of a version: its path inside the upload and the SHA-256 of its bytes."""

    __tablename__ = "version_files"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("servable_versions.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)


class VersionAccess(Base):
    """One principal that may see a version (``public``, ``user:NAME``, ``group:NAME``, a URN)."""

    __tablename__ = "version_access"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("servable_versions.id", ondelete="CASCADE"), primary_key=True
    )
    principal: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Task(Base):
    """Long-running work the caller can follow: its steps, their state and logs."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_owner_created", "owner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: What the task does: ``publish`` (and, later, ``run``).
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: pending, running, succeeded or failed.
    state: Mapped[str] = mapped_column(String(16))
    #: ``[{"name", "state", "log", "started_at", "finished_at"}]`` in order.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    #: What the task produced (for a publication: ``{"name", "version", "id"}``).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship(lazy="joined")


class TaskData(Base):
    """The inputs and output of an asynchronous run, in the wire format (msgpack)."""

    __tablename__ = "task_data"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    inputs: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    output: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
