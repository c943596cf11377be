"""``dlhub serve``: run the hub."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from dlhub_cli._errors import CliError
from dlhub_cli._settings import data_dir_option, hub_settings

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 takes any free port.",
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the port the hub listens on to this file (for scripts using --port 0).",
)
@data_dir_option
def serve(host: str, port: int, port_file: Path | None, data_dir: Path | None) -> None:
    """Run the hub: the REST API under /api/v1 (docs at /docs).

    Every setting is a DLHUB_* environment variable (see docs/settings.md).

    \b
    Examples:
        dlhub serve                                   # http://127.0.0.1:5000, data in ~/.dlhub/server
        dlhub serve --host 0.0.0.0 --port 8080 --data-dir /srv/dlhub
        dlhub serve --port 0 --port-file hub.port     # any free port, written to hub.port
    """
    import uvicorn

    from dlhub_server.app import create_app

    listener = _listen(host, port)
    port = int(listener.getsockname()[1])
    if port_file is not None:
        # written whole or not at all: a script polling for the file never reads half of it
        partial = port_file.with_name(f".{port_file.name}.{os.getpid()}")
        partial.write_text(f"{port}\n")
        partial.replace(port_file)
    settings = hub_settings(data_dir)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"DLHub hub at http://{shown}:{port} (data in {settings.data_dir})", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, bound here so that port 0 gives the real port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise CliError(
            f"cannot listen on {host}:{port}: {error.strerror or error} (another program may "
            "hold the port: pick another with --port, or --port 0 for any free one)"
        ) from None
    listener.listen(2048)
    return listener
