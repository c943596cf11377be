"""Running servables: ``POST .../run`` (answer in the same request, or a task) and run results.

Bodies travel as msgpack (``Content-Type: application/msgpack``) with the typed
extensions of ``dlhub_runtime.codec`` (arrays as raw bytes, files, tuples, ...),
or as JSON for curl users (arrays as nested lists, or the codec's JSON markers).
The answer uses msgpack when the caller accepts it, JSON otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from dlhub_runtime.codec import CodecError, encode, from_json, to_json_compatible
from dlhub_runtime.passthrough import decode_keeping
from dlhub_server.errors import BadRequest, TaskNotFound
from dlhub_server.execution.executor import RunOutcome
from dlhub_server.execution.service import ExecutionService, RunRequest
from dlhub_server.routes._bodies import limited_body
from dlhub_server.routes._deps import Caller, CurrentCaller, CurrentHub, SignedInCaller
from dlhub_server.visibility import can_see_task

__all__ = ["MSGPACK", "router"]

router = APIRouter(tags=["runs"])

MSGPACK = "application/msgpack"
_FIELDS = {
    "inputs",
    "parameters",
    "method",
    "asynchronous",
    "debug",
    "capture_output",
    "validate_input",
    "timeout",
}

_RUN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["inputs"],
                    "properties": {
                        "inputs": {
                            "description": "The servable's input (JSON, or the codec's markers)"
                        },
                        "parameters": {
                            "type": "object",
                            "description": "Overrides of the method's parameters",
                        },
                        "method": {"type": "string", "default": "run"},
                        "asynchronous": {"type": "boolean", "default": False},
                        "debug": {"type": "boolean", "description": "Capture stdout and stderr"},
                        "validate_input": {"type": "boolean", "default": False},
                        "timeout": {"type": "number", "description": "Seconds the call may take"},
                    },
                }
            },
            MSGPACK: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _service(request: Request) -> ExecutionService:
    service: ExecutionService = request.app.state.execution
    return service


def _wants_msgpack(request: Request) -> bool:
    return MSGPACK in request.headers.get(
        "accept", ""
    ) or "application/x-msgpack" in request.headers.get("accept", "")


def answer(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    """``body`` in the format the caller accepts."""
    if _wants_msgpack(request):
        return Response(encode(body, name="output"), status_code=status, media_type=MSGPACK)
    return JSONResponse(to_json_compatible(body, name="output"), status_code=status)


async def _read(request: Request, limit: int) -> dict[str, Any]:
    raw = await limited_body(request, limit, "DLHUB_MAX_INPUT_BYTES").body()
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        if kind in (MSGPACK, "application/x-msgpack"):
            # large inputs are handed to the worker as they came, never decoded here
            payload = decode_keeping(raw, ("inputs",))
        else:
            payload = from_json(json.loads(raw or b"null"), name="request")
    except (CodecError, ValueError) as exc:
        raise BadRequest(f"the request body cannot be read as {kind or 'JSON'}: {exc}") from None
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise BadRequest(
            'the body must be an object with at least "inputs" (and optionally "parameters", ...)'
        )
    unknown = set(payload) - _FIELDS
    if unknown:
        raise BadRequest(f"unknown fields {sorted(unknown)}; the fields are {sorted(_FIELDS)}")
    if payload.get("parameters") is not None and not isinstance(payload["parameters"], dict):
        raise BadRequest('"parameters" must be an object mapping parameter names to values')
    return payload


def outcome_view(outcome: RunOutcome, task_id: str | None = None) -> dict[str, Any]:
    """A run's answer: ``{"task_id", "success", "output", "error", "stdout", "stderr", "timing"}``."""
    return {
        "task_id": task_id,
        "success": outcome.ok,
        "output": outcome.output,
        "error": outcome.error,
        "stdout": outcome.stdout,
        "stderr": outcome.stderr,
        "timing": outcome.timing,
    }


async def _run(
    request: Request, caller: Caller, owner: str, name: str, version: int | None
) -> Response:
    service = _service(request)
    service.limiter.take(f"user:{caller.viewer.user_id}")
    payload = await _read(request, service.hub.settings.max_input_bytes)
    timeout = payload.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise BadRequest('"timeout" must be a positive number of seconds')
    run = RunRequest(
        owner,
        name,
        version,
        method=str(payload.get("method") or "run"),
        inputs=payload["inputs"],
        parameters=payload.get("parameters"),
        capture_output=bool(payload.get("debug") or payload.get("capture_output")),
        timeout=timeout,
        validate=bool(payload.get("validate_input")),
    )
    if payload.get("asynchronous"):
        task_id = await run_in_threadpool(service.submit, caller.viewer, run)
        return answer(request, {"task_id": task_id, "status": "pending"}, status=202)
    outcome = await run_in_threadpool(service.run, caller.viewer, run)
    return answer(request, outcome_view(outcome))


@router.post("/servables/{owner}/{name}/run", openapi_extra=_RUN_BODY)
async def run_latest(request: Request, owner: str, name: str, caller: SignedInCaller) -> Response:
    """Run the newest version you can see: the output in the answer, or a task when asynchronous."""
    return await _run(request, caller, owner, name, None)


@router.post("/servables/{owner}/{name}/versions/{version}/run", openapi_extra=_RUN_BODY)
async def run_version(
    request: Request, owner: str, name: str, version: int, caller: SignedInCaller
) -> Response:
    """Run one version of a servable."""
    return await _run(request, caller, owner, name, version)


@router.get("/tasks/{task_id}/result")
def run_result(task_id: str, request: Request, caller: CurrentCaller, hub: CurrentHub) -> Response:
    """The outcome of a run task: 202 with its status while it runs, then the full answer."""
    task, output = _service(request).result(task_id)
    if task is None or task.kind != "run" or not can_see_task(caller.viewer, task):
        raise TaskNotFound(f"no run task {task_id!r} that you started")
    if task.state in ("pending", "running"):
        return answer(request, {"task_id": task_id, "status": task.state}, status=202)
    result = task.result or {}
    outcome = RunOutcome(
        bool(result.get("success")),
        output,
        result.get("error"),
        result.get("stdout") or "",
        result.get("stderr") or "",
        result.get("timing") or {},
    )
    return answer(request, {**outcome_view(outcome, task_id), "status": task.state})
