"""Every kind of error has the one JSON shape, the right status, and becomes the right client exception."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dlhub_sdk import exceptions as sdk
from dlhub_sdk._http import raise_for_status
from dlhub_server import errors
from dlhub_server.app import create_app
from dlhub_server.settings import Settings
from hubtools import TestClient

#: Each of the hub's errors and the client exception it must become.
CLIENT_EXCEPTION: dict[type[errors.ApiError], type[sdk.HubError]] = {
    errors.ApiError: sdk.HubServerError,
    errors.BadRequest: sdk.BadRequest,
    errors.Unauthenticated: sdk.AuthenticationError,
    errors.Forbidden: sdk.PermissionDenied,
    errors.NotFound: sdk.NotFound,
    errors.ServableNotFound: sdk.ServableNotFound,
    errors.TaskNotFound: sdk.TaskNotFound,
    errors.Conflict: sdk.Conflict,
    errors.PayloadTooLarge: sdk.PayloadTooLarge,
    errors.InvalidDocument: sdk.MetadataRejected,
    errors.InvalidUpload: sdk.InvalidUpload,
    errors.InvalidInput: sdk.InputRejected,
    errors.InvalidRequest: sdk.BadRequest,
    errors.RateLimited: sdk.RateLimited,
    errors.Unavailable: sdk.HubServerError,
}


def _all_errors() -> list[type[errors.ApiError]]:
    found = [errors.ApiError]
    for cls in found:
        found.extend(c for c in cls.__subclasses__() if c not in found)
    return found


def test_the_table_covers_every_error_class() -> None:
    assert set(_all_errors()) == set(CLIENT_EXCEPTION)


def _assert_shape(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def app(tmp_path) -> Any:
    """A hub with one extra route that raises whichever error it is asked for."""
    app = create_app(Settings.from_env(data_dir=tmp_path / "hub"))
    by_name = {cls.__name__: cls for cls in _all_errors()}

    @app.get("/test/raise/{name}")
    def raise_error(name: str) -> None:
        raise by_name[name](f"{name} happened; do the thing", details={"hint": name})

    @app.get("/test/crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.mark.parametrize("error", _all_errors(), ids=lambda c: c.__name__)
def test_each_hub_error(app: Any, error: type[errors.ApiError]) -> None:
    answer = TestClient(app).get(f"/test/raise/{error.__name__}")
    body = _assert_shape(answer, error.status, error.code)
    assert body["message"] == f"{error.__name__} happened; do the thing"
    assert body["details"] == {"hint": error.__name__}

    with pytest.raises(CLIENT_EXCEPTION[error]) as caught:
        raise_for_status(answer)
    assert caught.value.status_code == error.status
    assert caught.value.code == error.code
    assert str(caught.value) == body["message"]
    assert isinstance(caught.value, sdk.DLHubError)


def test_framework_errors_have_the_same_shape(app: Any) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    body = _assert_shape(client.get("/api/v1/no-such-route"), 404, "not_found")
    assert "/api/v1" in body["message"]
    _assert_shape(client.put("/api/v1/info"), 405, "method_not_allowed")
    body = _assert_shape(
        client.get("/api/v1/servables", params={"limit": "many"}), 422, "invalid_request"
    )
    assert body["details"][0]["field"] == "query.limit"
    body = _assert_shape(
        client.post("/api/v1/tokens", content=b"{", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )
    body = _assert_shape(client.get("/test/crash"), 500, "internal_error")
    assert "RuntimeError" in body["message"] and "a bug" not in body["message"]
    with pytest.raises(sdk.HubServerError):
        raise_for_status(client.get("/test/crash"))


def test_client_maps_answers_without_the_shape_by_status() -> None:
    request = httpx.Request("GET", "http://hub/api/v1/x")
    for status, expected in (
        (404, sdk.NotFound),
        (401, sdk.AuthenticationError),
        (502, sdk.HubServerError),
        (418, sdk.HubError),
    ):
        answer = httpx.Response(status, text="<html>proxy says no</html>", request=request)
        with pytest.raises(expected, match="proxy says no") as caught:
            raise_for_status(answer)
        assert caught.value.code is None
    answer = httpx.Response(429, headers={"Retry-After": "7"}, request=request)
    with pytest.raises(sdk.RateLimited) as limited:
        raise_for_status(answer)
    assert limited.value.retry_after == 7.0
    raise_for_status(httpx.Response(204, request=request))  # success: no error


def test_exceptions_inherit_the_builtins_they_resemble() -> None:
    assert issubclass(sdk.ServableNotFound, LookupError)
    assert issubclass(sdk.PermissionDenied, PermissionError)
    assert issubclass(sdk.MetadataRejected, sdk.InvalidMetadata)
    assert issubclass(sdk.HubUnavailable, ConnectionError)
    assert issubclass(sdk.BadRequest, ValueError)
