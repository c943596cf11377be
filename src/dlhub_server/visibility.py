"""Who may see what: the one place that decides.

A version is visible to its owner and to every principal in its
``dlhub.visible_to``: ``public`` (everyone, anonymous callers included),
``user:NAME`` and ``group:NAME`` (members of the group). Globus URNs from
documents written for the original DLHub are kept but match no local caller.

Every route asks here, either with :func:`visible_versions` (a SQL condition, so
listings page correctly) or with :func:`can_see_version` / :func:`can_see_task`.
Something the caller may not see is reported as *not found* (404), never as
*forbidden*, so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, or_, select

from dlhub_server.errors import Forbidden
from dlhub_server.tables import Servable, ServableVersion, Task, VersionAccess

__all__ = [
    "ANONYMOUS",
    "PUBLIC",
    "Viewer",
    "access_principals",
    "can_see_task",
    "can_see_version",
    "require_owner",
    "visible_versions",
]

PUBLIC = "public"


@dataclass(frozen=True)
class Viewer:
    """The caller of a request: a user (with their groups) or anonymous.

    Attributes:
        user_id: Registry id of the user, ``None`` when anonymous.
        username: User name, ``None`` when anonymous.
        groups: Names of the groups the user belongs to.
    """

    user_id: int | None = None
    username: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        """Whether the caller gave no credentials."""
        return self.user_id is None

    def principals(self) -> frozenset[str]:
        """The ``visible_to`` entries that let this caller see a version."""
        found = {PUBLIC}
        if self.username is not None:
            found.add(f"user:{self.username}")
        found.update(f"group:{g}" for g in self.groups)
        return frozenset(found)


ANONYMOUS = Viewer()


def access_principals(visible_to: Iterable[str]) -> list[str]:
    """The rows of ``version_access`` for a ``visible_to`` list (deduplicated, in order)."""
    return list(dict.fromkeys(str(v) for v in visible_to))


def visible_versions(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on :class:`ServableVersion` (joined with :class:`Servable`): visible to ``viewer``."""
    shared = exists(
        select(VersionAccess.version_id).where(
            VersionAccess.version_id == ServableVersion.id,
            VersionAccess.principal.in_(sorted(viewer.principals())),
        )
    )
    if viewer.user_id is None:
        return shared
    return or_(Servable.owner_id == viewer.user_id, shared)


def can_see_version(viewer: Viewer, version: ServableVersion) -> bool:
    """Whether ``viewer`` may find, describe and run ``version``."""
    if viewer.user_id is not None and version.servable.owner_id == viewer.user_id:
        return True
    return not viewer.principals().isdisjoint(version.visible_to)


def can_see_task(viewer: Viewer, task: Task) -> bool:
    """Whether ``viewer`` may follow ``task`` (tasks belong to whoever started them)."""
    return task.owner_id is not None and task.owner_id == viewer.user_id


def require_owner(viewer: Viewer, servable: Servable, action: str) -> None:
    """Raise :class:`Forbidden` unless ``viewer`` owns ``servable``.

    Call it only after the caller was shown to see the servable; otherwise the
    answer must be a 404.
    """
    if viewer.user_id is None or servable.owner_id != viewer.user_id:
        who = viewer.username or "an anonymous caller"
        raise Forbidden(
            f"only {servable.owner.username} can {action} {servable.owner.username}/{servable.name} "
            f"(you are {who})"
        )
