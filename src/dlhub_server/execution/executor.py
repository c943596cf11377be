"""The local executor: warm, isolated worker processes per servable version.

Each published version gets worker processes started from its environment,
loaded once and kept warm for the next call (the memoised loading of the DLHub
paper). A version has up to ``per_servable`` workers (more callers wait for
one), the hub up to ``max_workers`` in total; idle workers past
``idle_seconds`` or beyond the memory budget are closed, least recently used
first. A worker that crashes, hangs past its timeout or outgrows its memory
fails only the call it was running and is replaced on the next one.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dlhub_runtime.errors import ServableLoadError, WorkerCrashed, WorkerTimeout, describe_exit
from dlhub_runtime.process import WorkerProcess, runtime_path
from dlhub_server.execution.environments import Environment
from dlhub_server.execution.isolation import WorkerIdentity, sandbox_config

__all__ = ["ExecutorLimits", "LocalExecutor", "RunOutcome", "ServableTarget"]


@dataclass(frozen=True)
class ServableTarget:
    """What a worker needs to run one servable version."""

    version_id: str
    document: dict[str, Any]
    files: dict[str, str]  # path inside the servable's folder -> sha256 of its bytes
    environment: Environment


@dataclass(frozen=True)
class ExecutorLimits:
    """Bounds on workers (from the hub's settings)."""

    max_workers: int = 8
    per_servable: int = 2
    idle_seconds: float = 600.0
    memory_bytes: int | None = 4 * 1024**3  # address space of one worker
    total_memory_bytes: int | None = None  # resident memory of all workers
    load_timeout: float = 300.0
    run_timeout: float = 300.0
    acquire_timeout: float = 600.0


@dataclass
class RunOutcome:
    """The result of one call, successful or not."""

    ok: bool
    output: Any = None
    error: dict[str, str] | None = None
    stdout: str = ""
    stderr: str = ""
    timing: dict[str, float] = field(default_factory=dict)


@dataclass(eq=False)
class _Worker:
    process: WorkerProcess
    version_id: str
    cwd: Path
    last_used: float = field(default_factory=time.monotonic)
    calls: int = 0


@dataclass(eq=False)
class _Pool:
    idle: list[_Worker] = field(default_factory=list)
    busy: int = 0


def _describe_exit(returncode: int | None, memory_bytes: int | None) -> str:
    """The runtime's words for the exit, with what it most likely means for a servable."""
    if returncode is None:
        return "the worker stopped answering"
    if returncode >= 0:
        return f"exited with code {returncode}"
    text = describe_exit(returncode)
    if -returncode == signal.SIGKILL:
        limit = f" (limit {memory_bytes // 2**20} MiB)" if memory_bytes else ""
        text += f": most likely it ran out of memory{limit}"
    elif -returncode == signal.SIGSEGV:
        text += ": the servable's code crashed (segmentation fault)"
    return text


class LocalExecutor:
    """Runs servables in worker processes on this machine.

    Args:
        work_root: Folder for the servables' files and the workers' folders.
        open_blob: Reads a stored file by its sha256.
        private: Folders the workers must never see (the hub's data, storage).
        identity: The unprivileged user workers run as (``None`` when the hub is not root).
        limits: Bounds on workers.
    """

    def __init__(
        self,
        work_root: Path,
        open_blob: Callable[[str], BinaryIO],
        private: list[Path],
        identity: WorkerIdentity | None,
        limits: ExecutorLimits | None = None,
    ) -> None:
        self.work_root = Path(work_root)
        self.work_root.mkdir(parents=True, exist_ok=True)
        self.work_root.chmod(0o755)  # workers (another user) pass through it to their own folder
        self.open_blob = open_blob
        self.private = [Path(p) for p in private]
        self.identity = identity
        self.limits = limits or ExecutorLimits()
        self._pools: collections.OrderedDict[str, _Pool] = collections.OrderedDict()
        self._changed = threading.Condition()
        self._closed = False
        self._serial = 0
        self._reaper = threading.Thread(
            target=self._reap_forever, name="dlhub-worker-reaper", daemon=True
        )
        self._reaper.start()

    # ------------------------------------------------------------------ public
    def run(
        self,
        target: ServableTarget,
        method: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        *,
        capture_output: bool = False,
        timeout: float | None = None,
    ) -> RunOutcome:
        """Run one method of a servable version and report what happened (never raises for the servable)."""
        started = time.monotonic()
        timeout = min(timeout or self.limits.run_timeout, self.limits.run_timeout)
        try:
            worker = self._acquire(target)
        except ServableLoadError as exc:
            return self._failure(
                "ServableLoadError",
                f"the servable could not be loaded: {exc}",
                started,
                traceback=exc.traceback,
                stdout=exc.stdout,
                stderr=exc.stderr,
            )
        except (WorkerCrashed, WorkerTimeout) as exc:
            return self._failure(
                "ServableLoadError", f"the servable's worker failed while loading: {exc}", started
            )
        except TimeoutError as exc:
            return self._failure("ExecutorBusy", str(exc), started)
        queued = time.monotonic() - started
        try:
            # a large output stays the worker's bytes: the hub passes it on undecoded
            reply = worker.process.call(
                method,
                inputs,
                parameters,
                capture_output=capture_output,
                timeout=timeout,
                keep_output=True,
            )
        except WorkerTimeout:
            self._discard(worker)
            return self._failure(
                "ServableTimeout",
                f"the servable did not finish within {timeout:g} s; its worker was stopped",
                started,
            )
        except WorkerCrashed as exc:
            self._discard(worker)
            detail = _describe_exit(exc.returncode, self.limits.memory_bytes)
            tail = f"\n{exc.stderr_tail}" if exc.stderr_tail else ""
            return self._failure(
                "WorkerCrashed", f"the servable's worker crashed ({detail}){tail}", started
            )
        except Exception as exc:  # the inputs could not be encoded: nothing ran
            self._release(worker)
            return self._failure(type(exc).__name__, str(exc), started)
        self._release(worker)
        timing = {"queue": queued, "total": time.monotonic() - started, **(reply.timing or {})}
        if reply.ok:
            return RunOutcome(
                True, reply.output, None, reply.stdout or "", reply.stderr or "", timing
            )
        error = {k: str(v) for k, v in (reply.error or {}).items()}
        return RunOutcome(False, None, error, reply.stdout or "", reply.stderr or "", timing)

    def warm(self, target: ServableTarget) -> None:
        """Start and load one worker for ``target`` now, so its first call is fast."""
        worker = self._acquire(target)
        self._release(worker)

    def evict(self, version_id: str) -> None:
        """Close every idle worker of a version (e.g. when it is deleted)."""
        with self._changed:
            pool = self._pools.pop(version_id, None)
        for worker in pool.idle if pool else []:
            self._close(worker)
        shutil.rmtree(self.work_root / version_id, ignore_errors=True)

    def close(self) -> None:
        """Stop every worker."""
        with self._changed:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
            self._changed.notify_all()
        for pool in pools:
            for worker in pool.idle:
                self._close(worker)

    def stats(self) -> dict[str, Any]:
        """Workers per version (idle and busy), for the status page and tests."""
        with self._changed:
            return {v: {"idle": len(p.idle), "busy": p.busy} for v, p in self._pools.items()}

    # ------------------------------------------------------------------ workers
    def _total(self) -> int:
        return sum(len(p.idle) + p.busy for p in self._pools.values())

    def _acquire(self, target: ServableTarget) -> _Worker:
        deadline = time.monotonic() + self.limits.acquire_timeout
        with self._changed:
            while True:
                if self._closed:
                    raise TimeoutError("the executor is shutting down")
                pool = self._pools.setdefault(target.version_id, _Pool())
                self._pools.move_to_end(target.version_id)
                if pool.idle:
                    worker = pool.idle.pop()
                    pool.busy += 1
                    return worker
                if pool.busy < self.limits.per_servable and self._make_room():
                    pool.busy += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no worker became free within {self.limits.acquire_timeout:g} s; the hub is busy, try again"
                    )
                self._changed.wait(remaining)
        try:
            return self._start(target)
        except BaseException:
            with self._changed:
                pool.busy -= 1
                self._changed.notify_all()
            raise

    def _make_room(self) -> bool:
        """Whether one more worker may start, closing the least recently used idle one if needed."""
        if self._total() < self.limits.max_workers:
            return True
        for pool in self._pools.values():  # least recently used servable first
            if pool.idle:
                victim = min(pool.idle, key=lambda w: w.last_used)
                pool.idle.remove(victim)
                threading.Thread(target=self._close, args=(victim,), daemon=True).start()
                return True
        return False

    def _release(self, worker: _Worker) -> None:
        worker.last_used = time.monotonic()
        worker.calls += 1
        keep = worker.process.alive and not self._over_memory(worker)
        with self._changed:
            pool = self._pools.get(worker.version_id)
            if pool is not None:
                pool.busy -= 1
            kept = keep and pool is not None and not self._closed
            if kept:
                pool.idle.append(worker)  # type: ignore[union-attr]
            self._changed.notify_all()
        if not kept:
            self._close(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._changed:
            pool = self._pools.get(worker.version_id)
            if pool is not None:
                pool.busy -= 1
            self._changed.notify_all()
        self._close(worker)

    def _close(self, worker: _Worker) -> None:
        worker.process.close(timeout=2)
        shutil.rmtree(worker.cwd, ignore_errors=True)

    def _over_memory(self, worker: _Worker) -> bool:
        """A worker whose resident memory nears its limit is replaced before it fails a call."""
        limit = self.limits.memory_bytes
        return limit is not None and _resident_bytes(worker.process.pid) > 0.8 * limit

    # ------------------------------------------------------------------ starting
    def _files_folder(self, target: ServableTarget) -> Path:
        folder = self.work_root / target.version_id / "files"
        marker = folder / ".dlhub-complete"
        if marker.is_file():
            return folder
        staging = folder.with_name(f"files.{os.getpid()}.{threading.get_ident()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        staging.parent.chmod(0o755)  # the version's folder: the worker user passes through it
        for relative, sha256 in target.files.items():
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with self.open_blob(sha256) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        (staging / ".dlhub-complete").write_text(json.dumps(sorted(target.files)))
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        try:
            staging.rename(folder)
        except OSError:  # another thread made it first
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    def _start(self, target: ServableTarget) -> _Worker:
        files = self._files_folder(target)
        with self._changed:
            self._serial += 1
            serial = self._serial
        cwd = self.work_root / target.version_id / f"worker-{serial}"
        cwd.mkdir(parents=True, exist_ok=True)
        if self.identity is not None:
            os.chown(cwd, self.identity.uid, self.identity.gid)
        env = target.environment
        needed = [files, cwd, os.path.realpath(sys.base_prefix)]
        worker_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        if env.path is not None:
            needed.append(env.path)
        else:  # shared mode: the hub's own interpreter and packages
            needed += [os.path.realpath(sys.prefix), runtime_path()]
            needed += [p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p]
            worker_env["PYTHONPATH"] = runtime_path()
        config = sandbox_config(
            needed, self.private, self.identity, memory_bytes=self.limits.memory_bytes, cwd=cwd
        )
        launcher = [env.python, "-m", "dlhub_runtime.sandbox", json.dumps(config), "--"]
        process = WorkerProcess(env.python, env=worker_env, cwd=cwd, launcher=launcher)
        worker = _Worker(process, target.version_id, cwd)
        try:
            process.load(target.document, files, timeout=self.limits.load_timeout)
        except BaseException:
            self._close(worker)
            raise
        return worker

    # ------------------------------------------------------------------ reaping
    def _reap_forever(self) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                self._changed.wait(min(30.0, self.limits.idle_seconds / 2))
            self.reap()

    def reap(self) -> None:
        """Close workers idle too long, and the least recently used while over the memory budget."""
        now = time.monotonic()
        victims: list[_Worker] = []
        with self._changed:
            for pool in self._pools.values():
                for worker in list(pool.idle):
                    if now - worker.last_used > self.limits.idle_seconds:
                        pool.idle.remove(worker)
                        victims.append(worker)
            budget = self.limits.total_memory_bytes
            if budget is not None:
                idle = sorted(
                    (w for p in self._pools.values() for w in p.idle), key=lambda w: w.last_used
                )
                used = sum(
                    _resident_bytes(w.process.pid) for p in self._pools.values() for w in p.idle
                )
                while idle and used > budget:
                    worker = idle.pop(0)
                    self._pools[worker.version_id].idle.remove(worker)
                    used -= _resident_bytes(worker.process.pid)
                    victims.append(worker)
        for worker in victims:
            self._close(worker)

    @staticmethod
    def _failure(
        kind: str,
        message: str,
        started: float,
        *,
        traceback: str = "",
        stdout: str = "",
        stderr: str = "",
    ) -> RunOutcome:
        error = {"type": kind, "message": message, "traceback": traceback}
        return RunOutcome(False, None, error, stdout, stderr, {"total": time.monotonic() - started})


def _resident_bytes(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/statm") as fp:
            return int(fp.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
