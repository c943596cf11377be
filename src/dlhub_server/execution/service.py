"""The hub's side of running servables: environments, runs and run tasks.

:class:`ExecutionService` connects the registry to the executor. When a
servable version is published it builds the version's environment (the
``build environment`` step of the publication task) and warms a worker; it runs
calls for the run routes, synchronously or as tasks whose inputs and outputs
are kept in the registry so they survive a restart; and when the hub starts it
ends the runs a previous process left unfinished.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from dlhub_runtime.codec import Packed, encode
from dlhub_runtime.passthrough import decode_keeping
from dlhub_sdk.models._requirements import pip_spec
from dlhub_server._cache import TTLCache
from dlhub_server.errors import BadRequest, InvalidInput, NotFound, RateLimited
from dlhub_server.execution.environments import (
    Environment,
    EnvironmentBuilder,
    EnvironmentBuildError,
    PackageSources,
    environment_key,
)
from dlhub_server.execution.executor import (
    ExecutorLimits,
    LocalExecutor,
    RunOutcome,
    ServableTarget,
)
from dlhub_server.execution.isolation import worker_identity
from dlhub_server.hub import Hub
from dlhub_server.registry import find_version
from dlhub_server.tables import ServableVersion, Task, TaskData
from dlhub_server.tasks import Step, new_task, update_step
from dlhub_server.visibility import Viewer

__all__ = ["ExecutionService", "RateLimiter", "RunRequest"]

BUILD_STEP = "build environment"


@dataclass(frozen=True)
class RunRequest:
    """One call of a servable, as the run route received it."""

    owner: str
    name: str
    version: int | None
    method: str = "run"
    inputs: Any = None
    parameters: dict[str, Any] | None = None
    capture_output: bool = False
    timeout: float | None = None
    validate: bool = False

    @property
    def label(self) -> str:
        """``owner/name`` or ``owner/name:VERSION``."""
        return f"{self.owner}/{self.name}" + (
            f":{self.version}" if self.version is not None else ""
        )


class RateLimiter:
    """Calls per second per caller, with bursts up to twice the rate (a token bucket)."""

    def __init__(self, per_second: float) -> None:
        self.rate = per_second
        self.capacity = 2 * per_second
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one call of ``key``'s allowance.

        Raises:
            RateLimited: The caller is over the rate (with the seconds to wait).
        """
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                wait = (1 - tokens) / self.rate
                raise RateLimited(
                    f"more than {self.rate:g} calls per second; wait {wait:.2f} s and try again "
                    "(DLHUB_RUNS_PER_SECOND sets the rate)",
                    details={"retry_after": wait},
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            self._buckets[key] = (tokens - 1, now)


def requirement_specs(document: dict[str, Any]) -> list[str]:
    """The pip requirements of a servable's document."""
    python = ((document.get("dlhub") or {}).get("dependencies") or {}).get("python") or {}
    return [pip_spec(name, version) for name, version in sorted(python.items())]


def _private_folders(hub: Hub) -> list[Path]:
    """Folders of the hub that no worker may see."""
    folders = [hub.settings.data_dir]
    storage = hub.settings.storage_url
    if "://" not in storage or storage.startswith("file://"):
        folders.append(Path(storage.removeprefix("file://")))
    url = hub.settings.database_url
    if url.startswith("sqlite:///"):
        folders.append(Path(url.removeprefix("sqlite:///")).parent)
    return [f.expanduser() for f in folders if f.expanduser().exists()]


class ExecutionService:
    """Builds environments and runs servables for one hub."""

    def __init__(self, hub: Hub) -> None:
        settings = hub.settings
        self.hub = hub
        environ = {
            **os.environ,
            "DLHUB_INDEX_URL": settings.index_url,
            "DLHUB_EXTRA_INDEX_URL": settings.extra_index_url,
            "DLHUB_FIND_LINKS": settings.find_links,
            "DLHUB_UV_OFFLINE": "1" if settings.uv_offline else "",
        }
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.builder = EnvironmentBuilder(
            settings.work_dir / "environments",
            mode=settings.environments,
            sources=PackageSources.from_environment(environ),
        )
        self.executor = LocalExecutor(
            settings.work_dir / "workers",
            hub.storage.open,
            _private_folders(hub),
            worker_identity(settings.worker_user),
            ExecutorLimits(
                max_workers=settings.max_workers,
                per_servable=settings.workers_per_servable,
                idle_seconds=settings.worker_idle_seconds,
                memory_bytes=settings.worker_memory_mb * 2**20,
                total_memory_bytes=settings.workers_memory_mb * 2**20,
                run_timeout=settings.run_timeout,
            ),
        )
        self.limiter = RateLimiter(settings.runs_per_second)
        self._tasks = ThreadPoolExecutor(
            max_workers=max(2, settings.max_workers), thread_name_prefix="dlhub-task"
        )
        self._environments: dict[str, Environment] = {}
        self._environment_lock = threading.Lock()
        # (caller, owner, name, version) -> the version to run; emptied by any registry change
        self._resolved: TTLCache[
            tuple[Any, ...], tuple[str, str, dict[str, Any], dict[str, str]]
        ] = TTLCache(2.0)
        hub.events.on_published(self._published)
        hub.events.on_edited(self._forget)
        hub.events.on_deleted(self._deleted)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """End runs a previous hub process left unfinished; resume interrupted builds."""
        resume: list[tuple[str, str]] = []
        with self.hub.transaction() as session:
            unfinished = session.scalars(select(Task).where(Task.state.in_(("pending", "running"))))
            for task in unfinished:
                if task.kind == "run":
                    update_step(
                        task,
                        "run",
                        state="failed",
                        log="the hub stopped before this run finished; submit it again",
                    )
                    task.result = {
                        **(task.result or {}),
                        "success": False,
                        "error": {
                            "type": "HubRestarted",
                            "message": "the hub stopped before this run finished; submit it again",
                        },
                    }
                elif task.kind == "publish" and (task.result or {}).get("id"):
                    resume.append((str(task.result["id"]), task.id))
        for version_id, task_id in resume:
            self._tasks.submit(self._prepare, version_id, task_id)

    def close(self) -> None:
        """Stop the workers and the task threads."""
        self._tasks.shutdown(wait=False, cancel_futures=True)
        self.executor.close()

    # ------------------------------------------------------------------ publication
    def _forget(self, session: Session, version: ServableVersion, task: Task | None) -> None:
        event.listen(session, "after_commit", lambda _: self._resolved.clear(), once=True)

    def _published(self, session: Session, version: ServableVersion, task: Task | None) -> None:
        self._forget(session, version, task)
        if version.kind != "servable":
            if task is not None:
                update_step(
                    task, BUILD_STEP, state="skipped", log=f"a {version.kind} has no environment"
                )
            return
        version_id, task_id = version.id, task.id if task is not None else None
        event.listen(
            session,
            "after_commit",
            lambda _: self._tasks.submit(self._prepare, version_id, task_id),
            once=True,
        )

    def _deleted(self, session: Session, version: ServableVersion, task: Task | None) -> None:
        self._forget(session, version, task)
        version_id = version.id
        event.listen(session, "after_commit", lambda _: self.executor.evict(version_id), once=True)

    def _note(self, task_id: str | None, state: str | None = None, log: str | None = None) -> None:
        if task_id is None:
            return
        with self.hub.transaction() as session:
            task = session.get(Task, task_id)
            if task is not None:
                update_step(task, BUILD_STEP, state=state, log=log)

    def _prepare(self, version_id: str, task_id: str | None) -> None:
        """Build the environment of a new version, record it, and warm a worker."""
        with self.hub.transaction() as session:
            version = session.get(ServableVersion, version_id)
            if version is None:
                return
            document = version.document
            files = {f.path: f.sha256 for f in version.files}
        requirements = requirement_specs(document)
        self._note(task_id, "running", f"requirements: {', '.join(requirements) or '(none)'}")
        lines: list[str] = []
        try:
            environment = self._environment(requirements, lines.append)
        except EnvironmentBuildError as exc:
            self._note(
                task_id,
                "failed",
                "\n".join([*lines[-40:], f"the environment could not be built:\n{exc}"]),
            )
            return
        with self.hub.transaction() as session:
            version = session.get(ServableVersion, version_id)
            if version is None:
                return
            dlhub = {**version.document.get("dlhub", {}), "environment": environment.describe()}
            version.document = {**version.document, "dlhub": dlhub}
        log = lines[-20:]
        if self.hub.settings.warm_on_publish:
            started = time.monotonic()
            target = ServableTarget(version_id, {**document, "dlhub": dlhub}, files, environment)
            try:
                self.executor.warm(target)
            except Exception as exc:
                self._note(
                    task_id,
                    "failed",
                    "\n".join(
                        [*log, f"the environment is ready but the servable failed to load: {exc}"]
                    ),
                )
                return
            log.append(f"a worker loaded the servable in {time.monotonic() - started:.2f} s")
        self._note(task_id, "succeeded", "\n".join(log))

    def _environment(self, requirements: list[str], log: Any = None) -> Environment:
        key = environment_key(requirements)
        with self._environment_lock:
            known = self._environments.get(key)
        if known is not None:
            return known
        environment = self.builder.build(requirements, log=log or (lambda line: None))
        with self._environment_lock:
            self._environments[key] = environment
        return environment

    # ------------------------------------------------------------------ running
    def _resolve(
        self, viewer: Viewer, request: RunRequest
    ) -> tuple[str, str, dict[str, Any], dict[str, str]]:
        """The version a caller may run: its id, kind, document and files (404 otherwise)."""
        with self.hub.transaction() as session:
            version = find_version(session, viewer, request.owner, request.name, request.version)
            return (
                version.id,
                version.kind,
                version.document,
                {f.path: f.sha256 for f in version.files},
            )

    def _check(self, document: dict[str, Any], request: RunRequest) -> None:
        methods = (document.get("servable") or {}).get("methods") or {}
        if request.method not in methods:
            raise NotFound(
                f"{request.label} has no method {request.method!r}; its methods: {', '.join(sorted(methods))}"
            )
        if request.validate:
            from dlhub_sdk.exceptions import InputValidationError, InvalidMetadata
            from dlhub_sdk.utils.validation import validate_inputs

            inputs = request.inputs
            try:
                if isinstance(inputs, Packed):
                    inputs = inputs.value()
                validate_inputs(inputs, methods[request.method])
            except InputValidationError as exc:
                raise InvalidInput(
                    f"the inputs do not match {request.label}'s declared types: {exc}",
                    details={"path": exc.path, "reason": exc.reason},
                ) from None
            except InvalidMetadata as exc:
                raise BadRequest(f"{request.label} declares no usable input type: {exc}") from None

    def run(self, viewer: Viewer, request: RunRequest) -> RunOutcome:
        """Run one call now and return what happened (the servable's failure included)."""
        version_id, kind, document, files = self._resolve(viewer, request)
        if kind == "pipeline":
            return self._run_pipeline(viewer, document, request)
        if kind != "servable":
            raise BadRequest(
                f"{request.label} is a {kind}; only servables and pipelines can be run"
            )
        self._check(document, request)
        environment = self._environment(requirement_specs(document))
        target = ServableTarget(version_id, document, files, environment)
        return self.executor.run(
            target,
            request.method,
            request.inputs,
            request.parameters,
            capture_output=request.capture_output,
            timeout=request.timeout,
        )

    def _run_pipeline(
        self, viewer: Viewer, document: dict[str, Any], request: RunRequest
    ) -> RunOutcome:
        """Run each step of a pipeline on the previous step's output."""
        from dlhub_sdk.client import parse_name

        steps = (document.get("pipeline") or {}).get("steps") or []
        value, stdout, stderr, timing = request.inputs, [], [], {"total": 0.0}
        for number, step in enumerate(steps, start=1):
            owner = step.get("author") or step.get("owner")
            name = step.get("name")
            if not owner or not name:
                owner, name, _ = parse_name(str(step.get("servable", "")))
            # the caller's parameters are for the last step; earlier ones keep their defaults
            last = number == len(steps)
            parameters = {
                **(step.get("parameters") or {}),
                **((request.parameters or {}) if last else {}),
            }
            outcome = self.run(
                viewer,
                RunRequest(
                    owner,
                    name,
                    step.get("version"),
                    inputs=value,
                    parameters=parameters,
                    capture_output=request.capture_output,
                    timeout=request.timeout,
                ),
            )
            stdout.append(outcome.stdout)
            stderr.append(outcome.stderr)
            timing["total"] += outcome.timing.get("total", 0.0)
            if not outcome.ok:
                error = dict(outcome.error or {})
                error["message"] = (
                    f"step {number} ({owner}/{name}) failed: {error.get('message', '')}"
                )
                return RunOutcome(False, None, error, "".join(stdout), "".join(stderr), timing)
            value = outcome.output
        return RunOutcome(True, value, None, "".join(stdout), "".join(stderr), timing)

    # ------------------------------------------------------------------ run tasks
    def submit(self, viewer: Viewer, request: RunRequest) -> str:
        """Start a run in the background; returns its task id (the result is kept in the registry)."""
        version_id, kind, document, _ = self._resolve(viewer, request)
        if kind == "servable":
            self._check(document, request)
        elif kind != "pipeline":
            raise BadRequest(
                f"{request.label} is a {kind}; only servables and pipelines can be run"
            )
        payload = encode(
            {
                "request": {
                    "owner": request.owner,
                    "name": request.name,
                    "version": document["dlhub"].get("servable_version", request.version),
                    "method": request.method,
                    "parameters": request.parameters,
                    "capture_output": request.capture_output,
                    "timeout": request.timeout,
                },
                "inputs": request.inputs,
            },
            name="input",
        )
        with self.hub.transaction() as session:
            task = new_task("run", viewer.user_id, [Step("run")])
            task.result = {
                "servable": request.label,
                "version_id": version_id,
                "method": request.method,
            }
            session.add(task)
            session.add(TaskData(task_id=task.id, inputs=payload))
            task_id = task.id
        self._tasks.submit(self._run_task, task_id, viewer)
        return task_id

    def _run_task(self, task_id: str, viewer: Viewer) -> None:
        with self.hub.transaction() as session:
            task, data = session.get(Task, task_id), session.get(TaskData, task_id)
            if task is None or data is None or data.inputs is None:
                return
            update_step(task, "run", state="running")
            saved = decode_keeping(data.inputs, ("inputs",))
        spec = saved["request"]
        request = RunRequest(
            spec["owner"],
            spec["name"],
            spec["version"],
            spec["method"],
            saved["inputs"],
            spec["parameters"],
            bool(spec["capture_output"]),
            spec["timeout"],
        )
        try:
            outcome = self.run(viewer, request)
        except Exception as exc:  # e.g. the servable was deleted meanwhile
            outcome = RunOutcome(
                False, None, {"type": type(exc).__name__, "message": str(exc), "traceback": ""}
            )
        self.record(task_id, outcome)

    def record(self, task_id: str, outcome: RunOutcome) -> None:
        """Keep the outcome of a run task in the registry."""
        try:
            output = encode(outcome.output, name="output") if outcome.ok else None
        except ValueError as exc:
            outcome = RunOutcome(
                False, None, {"type": "CodecError", "message": str(exc), "traceback": ""}
            )
            output = None
        with self.hub.transaction() as session:
            task, data = session.get(Task, task_id), session.get(TaskData, task_id)
            if task is None:
                return
            if data is not None:
                data.output = output
            task.result = {
                **(task.result or {}),
                "success": outcome.ok,
                "error": outcome.error,
                "stdout": outcome.stdout,
                "stderr": outcome.stderr,
                "timing": outcome.timing,
            }
            message = None if outcome.ok else (outcome.error or {}).get("message")
            update_step(task, "run", state="succeeded" if outcome.ok else "failed", log=message)

    def result(self, task_id: str) -> tuple[Task, Any]:
        """A finished run task and its output as stored (``None`` when it failed or still runs).

        The output is the :class:`Packed` bytes that were stored: the answer carries
        them as they are, and a JSON answer decodes them.
        """
        with self.hub.transaction() as session:
            task = session.get(Task, task_id)
            data = session.get(TaskData, task_id)
            output = None
            if data is not None and data.output is not None:
                output = Packed(data.output)
            session.expunge_all()
            return task, output  # type: ignore[return-value]
