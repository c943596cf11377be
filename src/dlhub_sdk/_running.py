"""Running servables from the client: ``run``, ``run_serial``, ``get_result`` (mixed into DLHubClient)."""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dlhub_sdk.exceptions import ServableError, TaskNotFinished

if TYPE_CHECKING:
    from dlhub_sdk.utils.futures import DLHubFuture

__all__ = ["FuncXCompatibility", "RunningMixin"]

MSGPACK = "application/msgpack"


class FuncXCompatibility:
    """Stands where the original client kept its funcX client, for its one documented knob.

    ``client._fx_client.max_requests = 30`` limits this client to that many runs
    per ``period`` seconds (10 s, as funcX's soft limit was). Unset (the default),
    nothing is throttled; the hub enforces its own limit (HTTP 429).
    """

    def __init__(self) -> None:
        self.max_requests: int | None = None
        self.period: float = 10.0
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def throttle(self) -> None:
        """Wait until one more run fits within ``max_requests`` per ``period``."""
        if not self.max_requests:
            return
        with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] > self.period:
                    self._sent.popleft()
                if len(self._sent) < self.max_requests:
                    self._sent.append(now)
                    return
                time.sleep(self.period - (now - self._sent[0]) + 0.001)


def _method_input(document: dict[str, Any], method: str) -> dict[str, Any] | None:
    methods = (document.get("servable") or {}).get("methods") or {}
    found = methods.get(method)
    return found if isinstance(found, dict) else None


def _attach_files(value: Any, argument: dict[str, Any] | None, unpack: bool) -> Any:
    """Turn local paths into file references where the servable declares ``file`` inputs."""
    from dlhub_runtime.codec import FileRef

    if argument is None:
        return value
    kind = argument.get("type")
    if kind == "file" and isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        with open(path, "rb") as fp:
            return FileRef(os.path.basename(path), data=fp.read())
    if kind == "list" and isinstance(value, (list, tuple)):
        item = argument.get("item_type")
        if isinstance(item, dict) and item.get("type") == "file":
            return [_attach_files(v, item, False) for v in value]
    if kind == "tuple" and isinstance(value, (list, tuple)):
        members = argument.get("element_types") or []
        converted = [_attach_files(v, m, False) for v, m in zip(value, members, strict=False)]
        return tuple(converted) if isinstance(value, tuple) or unpack else converted
    return value


class RunningMixin:
    """``run`` and friends; needs ``_send``, ``describe_servable`` and ``get_task_status``."""

    _send: Callable[..., Any]
    describe_servable: Callable[[str], dict[str, Any]]
    _fx_client: FuncXCompatibility
    _documents: dict[str, dict[str, Any]]
    _futures: weakref.WeakSet[DLHubFuture]

    def clear_funcx_cache(self, servable: str | None = None) -> None:
        """Forget the cached descriptions used for validating inputs (one servable, or all)."""
        if servable is None:
            self._documents.clear()
        else:
            self._documents.pop(servable, None)

    def _document(self, name: str) -> dict[str, Any]:
        if name not in self._documents:
            self._documents[name] = self.describe_servable(name)
        return self._documents[name]

    def _run_path(self, name: str) -> str:
        from dlhub_sdk.client import parse_name

        owner, short, version = parse_name(name)
        base = f"/api/v1/servables/{owner}/{short}"
        return f"{base}/versions/{version}/run" if version is not None else f"{base}/run"

    def _post_run(
        self, name: str, body: dict[str, Any], http_timeout: float | None
    ) -> tuple[int, dict[str, Any]]:
        from dlhub_runtime.codec import CodecError, decode, encode, encode_parts

        try:
            # one buffer: a large array is copied once, straight from its own memory
            payload = b"".join(encode_parts(body, name="request"))
        except CodecError:
            encode(body.get("inputs"), name="input")  # raises naming the input's own path
            raise
        self._fx_client.throttle()
        extra = {} if http_timeout is None else {"timeout": http_timeout}
        response = self._send(
            "POST",
            self._run_path(name),
            content=payload,
            headers={"Content-Type": MSGPACK, "Accept": MSGPACK},
            **extra,
        )
        return response.status_code, decode(response.content)

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        debug: bool = False,
        validate_input: bool = False,
        async_wait: float = 5,
        timeout: float | None = None,
    ) -> Any:
        """Invoke a servable.

        Args:
            name: ``owner/name`` (newest version) or ``owner/name:VERSION``.
            inputs: The input. Arrays, tuples, bytes, datetimes and complex numbers
                travel as such; for inputs declared as ``file``, give local paths.
            parameters: Overrides of the method's default parameters.
            asynchronous: Return a :class:`~dlhub_sdk.utils.futures.DLHubFuture` at once.
            debug: Return ``(output, metadata)``, metadata holding ``success``,
                ``stdout``, ``stderr``, ``timing``, ``error_message`` and ``exc``.
            validate_input: Check the input against the servable's declared types first.
            async_wait: Seconds between status checks of an asynchronous run.
            timeout: Seconds the run may take (synchronous runs).

        Returns:
            The output; or a future; or ``(output, metadata)`` with ``debug``.

        Raises:
            InputValidationError: ``validate_input`` found a mismatch (nothing ran).
            ServableError: The servable raised (``ServableTimeout``, ``WorkerCrashed``
                for a run past its time or a dead worker); carries the remote traceback.
            ServableNotFound: No such servable that you can see.
        """
        needs_document = validate_input or _may_hold_paths(inputs)
        if needs_document:
            method = _method_input(self._document(name), "run")
            if validate_input and method is not None:
                from dlhub_sdk.utils.validation import validate_inputs

                validate_inputs(inputs, method)
            if method is not None:
                unpack = bool((method.get("method_details") or {}).get("unpack"))
                inputs = _attach_files(inputs, method.get("input"), unpack)
        body: dict[str, Any] = {"inputs": inputs, "parameters": parameters or {}, "debug": debug}
        if validate_input:
            body["validate_input"] = True
        if asynchronous:
            from dlhub_sdk.utils.futures import DLHubFuture

            _, answer = self._post_run(name, {**body, "asynchronous": True}, None)
            future = DLHubFuture(str(answer["task_id"]), self._poll_run, async_wait)
            self._futures.add(future)  # close() stops its watcher
            return future
        if timeout is not None:
            body["timeout"] = timeout
        http_timeout = None if timeout is None else timeout + 30
        _, answer = self._post_run(name, body, http_timeout)
        return self._outcome(answer, debug)

    @staticmethod
    def _outcome(answer: dict[str, Any], debug: bool) -> Any:
        success = bool(answer.get("success"))
        error = None
        if not success:
            error = ServableError.from_error(
                answer.get("error") or {},
                answer.get("stdout") or "",
                answer.get("stderr") or "",
                answer.get("task_id"),
            )
        if debug:
            metadata = {
                "success": success,
                "stdout": answer.get("stdout") or "",
                "stderr": answer.get("stderr") or "",
                "timing": answer.get("timing") or {},
                "error_message": str(error) if error is not None else "",
                "exc": error,
            }
            return answer.get("output"), metadata
        if error is not None:
            raise error
        return answer.get("output")

    def _fetch_result(self, task_id: str) -> tuple[int, dict[str, Any]]:
        from dlhub_runtime.codec import decode

        response = self._send("GET", f"/api/v1/tasks/{task_id}/result", headers={"Accept": MSGPACK})
        return response.status_code, decode(response.content)

    def _poll_run(self, task_id: str) -> Callable[[], Any] | None:
        status, answer = self._fetch_result(task_id)
        if status == 202:
            return None
        return lambda: self._outcome(answer, False)

    def get_result(self, task_id: str, verbose: bool = False) -> Any:
        """Get the result of an asynchronous run.

        Args:
            task_id: The task's id (``future.task_id``).
            verbose: Return the hub's whole answer (``success``, ``output``,
                ``error``, ``stdout``, ``stderr``, ``timing``, ``status``).

        Raises:
            TaskNotFinished: The run has not ended yet.
            ServableError: The run failed (not raised with ``verbose``).
        """
        status, answer = self._fetch_result(task_id)
        if status == 202:
            raise TaskNotFinished(
                f"task {task_id} is still {answer.get('status', 'running')}; ask again later"
            )
        if verbose:
            return answer
        return self._outcome(answer, False)

    def run_serial(self, servables: list[str], inputs: Any, async_wait: float = 5) -> Any:
        """Run servables one after the other, each on the previous one's output.

        Args:
            servables: Names (``owner/name[:VERSION]``), in order.
            inputs: Input of the first servable.
            async_wait: Kept for compatibility (runs are synchronous).

        Returns:
            The output of the last servable.
        """
        value = inputs
        for name in servables:
            value = self.run(name, value)
        return value


def _may_hold_paths(inputs: Any) -> bool:
    if isinstance(inputs, (str, os.PathLike)):
        return True
    return isinstance(inputs, (list, tuple)) and any(
        isinstance(v, (str, os.PathLike))
        or (isinstance(v, (list, tuple)) and any(isinstance(w, str) for w in v))
        for v in inputs
    )
