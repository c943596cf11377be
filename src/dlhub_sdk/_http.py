"""Talking HTTP to a hub: the shared session, paging, and the one ``raise_for_status``.

:func:`raise_for_status` is the only place that looks at status codes: it turns
the hub's error shape ``{"error": {"code", "message", "details"}}`` into the typed
exceptions of :mod:`dlhub_sdk.exceptions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from dlhub_sdk.exceptions import (
    AuthenticationError,
    BadRequest,
    Conflict,
    HubError,
    HubServerError,
    HubUnavailable,
    InputRejected,
    InvalidUpload,
    MetadataRejected,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServableNotFound,
    TaskNotFound,
)

__all__ = ["HubSession", "raise_for_status"]

#: The hub's error codes and the exception each becomes.
_BY_CODE: dict[str, type[HubError]] = {
    "bad_request": BadRequest,
    "invalid_request": BadRequest,
    "method_not_allowed": BadRequest,
    "unauthenticated": AuthenticationError,
    "permission_denied": PermissionDenied,
    "not_found": NotFound,
    "servable_not_found": ServableNotFound,
    "task_not_found": TaskNotFound,
    "conflict": Conflict,
    "payload_too_large": PayloadTooLarge,
    "invalid_metadata": MetadataRejected,
    "invalid_upload": InvalidUpload,
    "rate_limited": RateLimited,
    "invalid_input": InputRejected,
}

#: For answers without a known code (a proxy in between, an older or newer hub).
_BY_STATUS: dict[int, type[HubError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: BadRequest,
    429: RateLimited,
}

#: Items asked for per page when a listing is walked.
PAGE_SIZE = 100


def raise_for_status(response: httpx.Response) -> None:
    """Raise the typed error a hub's answer stands for; return quietly on success.

    Raises:
        HubError: The matching subclass (``ServableNotFound``, ``AuthenticationError``,
            ``MetadataRejected``, ...), carrying ``status_code``, ``code``, ``details``.
    """
    if response.is_success:
        return
    code, message, details = None, None, None
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message")
        details = error.get("details")
    if not message:
        text = response.text.strip()[:500]
        message = f"the hub answered {response.status_code} {response.reason_phrase}" + (
            f": {text}" if text else ""
        )
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = HubServerError if response.status_code >= 500 else HubError
    if cls is RateLimited and details is None and "retry-after" in response.headers:
        details = {"retry_after": response.headers["retry-after"]}
    raise cls(str(message), status_code=response.status_code, code=code, details=details)


class HubSession:
    """Requests to one hub, through an ``httpx.Client`` (ours, or one given for tests).

    Args:
        base_url: The hub's URL (``http://127.0.0.1:5000``).
        timeout: Seconds to wait for an answer (``None``: no limit once connected).
        http_client: An ``httpx.Client`` to send requests with instead of a new one
            (e.g. a Starlette ``TestClient`` serving the hub in process).
    """

    def __init__(
        self, base_url: str, timeout: float | None = None, http_client: httpx.Client | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owned = http_client is None
        if http_client is None:
            # No limit on answers by default (uploads and builds take their time), but a
            # hub that is not there should be noticed quickly.
            limits = httpx.Timeout(timeout, connect=timeout if timeout is not None else 10.0)
            http_client = httpx.Client(timeout=limits)
        self._client = http_client

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send a request to ``path`` (under the base URL) and raise for an error answer.

        Raises:
            HubUnavailable: The hub cannot be reached.
            HubError: The hub answered with an error (see :func:`raise_for_status`).
        """
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._client.request(
                method, f"{self.base_url}{path}", headers=headers, **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise HubUnavailable(
                f"cannot reach the DLHub hub at {self.base_url} ({exc}); start one with "
                "`dlhub serve`, or point DLHUB_URL at a running hub"
            ) from exc
        raise_for_status(response)
        return response

    def paginate(
        self, path: str, *, token: str | None = None, params: dict[str, Any] | None = None
    ) -> Iterator[Any]:
        """Every item of a paged listing (``{"items", "next_offset"}``), fetching pages as needed."""
        offset: int | None = 0
        while offset is not None:
            page = self.request(
                "GET",
                path,
                token=token,
                params={**(params or {}), "limit": PAGE_SIZE, "offset": offset},
            ).json()
            yield from page.get("items", [])
            next_offset = page.get("next_offset")
            offset = int(next_offset) if next_offset is not None else None

    def close(self) -> None:
        """Close the connection pool (only if this session created it)."""
        if self._owned:
            self._client.close()
