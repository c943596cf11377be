"""Fixtures for the SDK tests: a library installed in a temporary folder and a local package index."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@pytest.fixture
def installed_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A distribution called ``library`` at version 1.2.3, visible to importlib.metadata."""
    site = tmp_path / "site"
    dist = site / "library-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: library\nVersion: 1.2.3\n")
    monkeypatch.syspath_prepend(str(site))
    return "library"


class _IndexHandler(BaseHTTPRequestHandler):
    releases = {"library": "2.0.0"}

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")  # /pypi/NAME/json
        if (
            len(parts) == 3
            and parts[0] == "pypi"
            and parts[2] == "json"
            and parts[1] in self.releases
        ):
            body = json.dumps({"info": {"version": self.releases[parts[1]]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def package_index(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package index answering PyPI's JSON API on 127.0.0.1, set as DLHUB_PYPI_URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IndexHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/pypi"
    monkeypatch.setenv("DLHUB_PYPI_URL", url)
    yield url
    server.shutdown()
    server.server_close()
