"""Dictionary-style access to pydantic models.

The manual edits descriptions with item syntax
(``model_info['servable']['methods']['run']['output']['description'] = 'Response'``),
so every block of a metadata document answers ``[]`` as well as attribute access,
and an assignment through ``[]`` changes the model itself.
"""

from __future__ import annotations

from typing import Any


class ItemAccessMixin:
    """Map ``obj[key]`` and ``obj[key] = value`` onto the model's fields."""

    def _field_names(self) -> set[str]:
        extra = getattr(self, "__pydantic_extra__", None) or {}
        return set(type(self).model_fields) | set(extra)  # type: ignore[attr-defined]

    def __getitem__(self, key: str) -> Any:
        if key not in self._field_names():
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return (
            isinstance(key, str) and key in self._field_names() and getattr(self, key) is not None
        )

    def get(self, key: str, default: Any = None) -> Any:
        """Value of ``key``, or ``default`` when it is absent or unset."""
        value = getattr(self, key, None) if key in self._field_names() else None
        return default if value is None else value

    def keys(self) -> list[str]:
        """Names of the fields that are set."""
        return [k for k in self._field_names() if getattr(self, k) is not None]
