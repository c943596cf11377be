"""Servables (and datasets and pipelines): publish, list, describe, edit, delete, download files.

A servable is ``owner/name``; its versions are numbered from 1. Routes without a
version act on the newest version the caller can see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from dlhub_server import publishing, registry
from dlhub_server.errors import BadRequest, InvalidDocument, NotFound
from dlhub_server.hub import Hub
from dlhub_server.routes._bodies import limited_body
from dlhub_server.routes._deps import CurrentCaller, CurrentHub, SignedInCaller

__all__ = ["router"]

router = APIRouter(prefix="/servables", tags=["servables"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
Offset = Annotated[int, Query(ge=0, description="Matches to skip")]

#: Largest size of the non-file form fields (the document) in a publication.
_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

_PUBLISH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["document"],
                    "properties": {
                        "document": {
                            "type": "string",
                            "description": "The metadata document as JSON "
                            "(model.to_dict(simplify_paths=True))",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "Zip of the files the document lists "
                            "(model.get_zip_file(...))",
                        },
                        "source_repository": {
                            "type": "string",
                            "description": 'JSON {"url": ..., "path": ...}: the git repository '
                            "the files came from",
                        },
                    },
                }
            }
        },
    }
}


def _json_field(value: Any, field: str) -> Any:
    if not isinstance(value, str):
        raise BadRequest(f"the form field {field!r} must be text holding JSON")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidDocument(
            f"the form field {field!r} is not valid JSON: {exc}",
            details=[{"field": field, "message": "not JSON"}],
        ) from None


@router.post("", status_code=202, openapi_extra=_PUBLISH_BODY)
async def publish(request: Request, caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """Publish a new version: multipart form with ``document`` (JSON) and ``file`` (zip).

    Validates the document (422 listing every problem) and the zip, stores the
    files, records the version and returns the publication task
    (``{"task_id", "name", "version", "id"}``).
    """
    body = limited_body(request, hub.settings.max_upload_bytes, "DLHUB_MAX_UPLOAD_BYTES")
    async with body.form(max_files=1, max_fields=8, max_part_size=_MAX_DOCUMENT_BYTES) as form:
        if "document" not in form:
            raise InvalidDocument(
                "the form has no 'document' field; send the metadata document as JSON in it",
                details=[{"field": "document", "message": "missing"}],
            )
        document = _json_field(form["document"], "document")
        source = form.get("source_repository")
        source_repository = _json_field(source, "source_repository") if source else None
        if source_repository is not None and not isinstance(source_repository, dict):
            raise BadRequest('source_repository must be a JSON object {"url": ..., "path": ...}')
        upload = form.get("file")
        if upload is not None and not isinstance(upload, UploadFile):
            raise BadRequest("the form field 'file' must be a file (the zip), not text")
        zip_file = upload.file if upload is not None else None
        publication = await run_in_threadpool(
            publishing.publish, hub, caller.viewer, document, zip_file, source_repository
        )
    return publication.view()


@router.get("")
def list_servables(
    caller: CurrentCaller,
    hub: CurrentHub,
    owner: str | None = None,
    name: str | None = None,
    latest: bool = True,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Documents of the servables the caller can see (newest version of each unless ``latest=false``)."""
    with hub.transaction() as session:
        page = registry.list_versions(
            session,
            caller.viewer,
            owner=owner,
            name=name,
            latest_only=latest,
            limit=limit,
            offset=offset,
        )
        return page.view()


@router.get("/{owner}/{name}")
def describe(owner: str, name: str, caller: CurrentCaller, hub: CurrentHub) -> dict[str, Any]:
    """The document of the newest version of ``owner/name`` the caller can see."""
    with hub.transaction() as session:
        return registry.find_version(session, caller.viewer, owner, name).document


@router.get("/{owner}/{name}/versions")
def list_versions(
    owner: str,
    name: str,
    caller: CurrentCaller,
    hub: CurrentHub,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Documents of every version of ``owner/name`` the caller can see, newest first."""
    with hub.transaction() as session:
        registry.find_version(session, caller.viewer, owner, name)
        page = registry.list_versions(
            session,
            caller.viewer,
            owner=owner,
            name=name,
            latest_only=False,
            limit=limit,
            offset=offset,
        )
        return page.view()


@router.get("/{owner}/{name}/versions/{version}")
def describe_version(
    owner: str, name: str, version: int, caller: CurrentCaller, hub: CurrentHub
) -> dict[str, Any]:
    """The document of one version."""
    with hub.transaction() as session:
        return registry.find_version(session, caller.viewer, owner, name, version).document


@router.patch("/{owner}/{name}")
def edit_latest(
    owner: str,
    name: str,
    caller: SignedInCaller,
    hub: CurrentHub,
    changes: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Edit the metadata of the newest version (owner only); returns the new document."""
    return publishing.edit_version(hub, caller.viewer, owner, name, None, changes)


@router.patch("/{owner}/{name}/versions/{version}")
def edit_version(
    owner: str,
    name: str,
    version: int,
    caller: SignedInCaller,
    hub: CurrentHub,
    changes: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Edit the metadata of one version (owner only); returns the new document."""
    return publishing.edit_version(hub, caller.viewer, owner, name, version, changes)


@router.delete("/{owner}/{name}")
def delete_servable(
    owner: str, name: str, caller: SignedInCaller, hub: CurrentHub
) -> dict[str, Any]:
    """Delete every version of ``owner/name`` (owner only)."""
    deleted = publishing.delete_versions(hub, caller.viewer, owner, name, None)
    return {"name": f"{owner}/{name}", "deleted_versions": deleted}


@router.delete("/{owner}/{name}/versions/{version}")
def delete_version(
    owner: str, name: str, version: int, caller: SignedInCaller, hub: CurrentHub
) -> dict[str, Any]:
    """Delete one version (owner only)."""
    deleted = publishing.delete_versions(hub, caller.viewer, owner, name, version)
    return {"name": f"{owner}/{name}", "deleted_versions": deleted}


def _stream(hub: Hub, sha256: str) -> Iterator[bytes]:
    with hub.storage.open(sha256) as blob:
        while chunk := blob.read(1024 * 1024):
            yield chunk


@router.get("/{owner}/{name}/versions/{version}/files/{path:path}")
def download_file(
    owner: str, name: str, version: int, path: str, caller: CurrentCaller, hub: CurrentHub
) -> StreamingResponse:
    """The bytes of one published file of a version."""
    with hub.transaction() as session:
        found = registry.find_version(session, caller.viewer, owner, name, version)
        file = next((f for f in found.files if f.path == path), None)
        if file is None:
            raise NotFound(
                f"{owner}/{name}:{version} has no file {path!r}; its files: "
                f"{[f.path for f in found.files]}"
            )
        sha256, size = file.sha256, file.size
    return StreamingResponse(
        _stream(hub, sha256),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size), "X-Content-SHA256": sha256},
    )
