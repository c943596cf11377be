"""A hub in a child process on this machine: for scripts, notebooks, benchmarks and tests.

``start_hub(data_dir)`` runs ``dlhub serve`` on a free port (or the one given)
and returns once the hub answers, with its URL; ``hub.stop()`` ends it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["HubStartError", "LocalHub", "free_port", "start_hub"]


class HubStartError(RuntimeError):
    """The hub process exited or did not answer in time; the message holds its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalHub:
    """A running hub process: its URL, the process, and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the hub to stop; kill it if it has not within ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=timeout)


def start_hub(
    data_dir: str | os.PathLike[str],
    *,
    port: int | None = None,
    environment: Mapping[str, str] | None = None,
    log: str | os.PathLike[str] | None = None,
    command: Sequence[str] | None = None,
    timeout: float = 60.0,
) -> LocalHub:
    """Run ``dlhub serve`` in a child process and wait until it answers.

    Args:
        data_dir: The hub's data folder.
        port: Port on 127.0.0.1 (default: a free one).
        environment: Variables added to this process's environment (``DLHUB_*`` settings).
        log: File for the hub's output (default: ``DATA.serve.log`` beside the data folder).
        command: How to invoke the ``dlhub`` command (default: this interpreter's
            ``python -m dlhub_cli.main``).
        timeout: Seconds to wait for the hub's first answer.

    Raises:
        HubStartError: The hub exited, or did not answer within ``timeout`` (with its log).
    """
    data = Path(data_dir)
    log_path = Path(log) if log is not None else data.parent / f"{data.name}.serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # With no port given the hub binds port 0 itself and writes the port it got: no
    # window in which another process can take a port chosen here.
    port_file = log_path.with_name(f".{log_path.name}.port")
    port_file.unlink(missing_ok=True)
    invocation = list(command or [sys.executable, "-m", "dlhub_cli.main"])
    invocation += ["serve", "--port", str(port or 0), "--data-dir", str(data)]
    invocation += ["--port-file", str(port_file)]
    with log_path.open("wb") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            invocation,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
        )
    deadline = time.monotonic() + timeout
    url = None
    while True:
        if process.poll() is not None:
            raise HubStartError(
                f"dlhub serve exited with {process.returncode}:\n{log_path.read_text()}"
            )
        if url is None and port_file.is_file():
            url = f"http://127.0.0.1:{int(port_file.read_text())}"
        try:
            if url is not None and httpx.get(f"{url}/api/v1/info", timeout=1).status_code == 200:
                return LocalHub(url, process, log_path)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise HubStartError(
                f"dlhub serve did not answer within {timeout:g} s:\n{log_path.read_text()}"
            )
        time.sleep(0.05)
