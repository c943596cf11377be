"""Finding servables and their versions, as a given caller may see them.

Every query here filters with :func:`dlhub_server.visibility.visible_versions`,
so what a caller cannot see is simply absent (and reported as not found).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dlhub_server.errors import ServableNotFound
from dlhub_server.tables import Servable, ServableVersion, User
from dlhub_server.visibility import Viewer, visible_versions

__all__ = ["Page", "find_servable", "find_version", "list_versions"]


@dataclass(frozen=True)
class Page:
    """One page of a listing.

    Attributes:
        items: The versions on this page.
        total: How many match in all.
        limit: Page size asked for.
        offset: Where this page starts.
    """

    items: list[ServableVersion]
    total: int
    limit: int
    offset: int

    def view(self) -> dict[str, Any]:
        """The page as the API returns it: documents, total, and where the next page starts."""
        following = self.offset + len(self.items)
        return {
            "items": [v.document for v in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": following if following < self.total else None,
        }


def find_servable(session: Session, owner: str, name: str) -> Servable | None:
    """The servable ``owner/name`` whatever its visibility (for the owner's own operations)."""
    return session.scalar(
        select(Servable)
        .join(User, User.id == Servable.owner_id)
        .where(User.username == owner, Servable.name == name)
    )


def _visible(viewer: Viewer) -> Select[ServableVersion]:
    return (
        select(ServableVersion)
        .join(Servable, Servable.id == ServableVersion.servable_id)
        .join(User, User.id == Servable.owner_id)
        .where(visible_versions(viewer))
    )


def find_version(
    session: Session, viewer: Viewer, owner: str, name: str, version: int | None = None
) -> ServableVersion:
    """A version of ``owner/name`` that ``viewer`` may see: ``version``, or the newest visible one.

    Raises:
        ServableNotFound: No such servable or version, or none the caller may see.
    """
    query = _visible(viewer).where(User.username == owner, Servable.name == name)
    if version is not None:
        query = query.where(ServableVersion.version == version)
    found = session.scalar(query.order_by(ServableVersion.version.desc()).limit(1))
    if found is None:
        label = f"{owner}/{name}" + (f":{version}" if version is not None else "")
        raise ServableNotFound(
            f"no servable {label} that you can see; check the name (owner/name[:version]) "
            "with list_servables(), and log in if it is shared with you"
        )
    return found


def list_versions(
    session: Session,
    viewer: Viewer,
    *,
    owner: str | None = None,
    name: str | None = None,
    latest_only: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Versions ``viewer`` may see, by owner, name and newest version first.

    Args:
        owner: Only this owner's servables.
        name: Only servables with this name.
        latest_only: Only the newest visible version of each servable.
        limit: Page size.
        offset: Number of matches to skip.
    """
    query = _visible(viewer)
    if owner is not None:
        query = query.where(User.username == owner)
    if name is not None:
        query = query.where(Servable.name == name)
    if latest_only:
        newest = (
            query.with_only_columns(
                ServableVersion.servable_id, func.max(ServableVersion.version).label("newest")
            )
            .group_by(ServableVersion.servable_id)
            .subquery()
        )
        query = query.join(
            newest,
            (newest.c.servable_id == ServableVersion.servable_id)
            & (newest.c.newest == ServableVersion.version),
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(User.username, Servable.name, ServableVersion.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page(items=list(rows), total=total, limit=limit, offset=offset)
