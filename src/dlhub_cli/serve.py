"""``dlhub serve``: run the hub."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_cli._settings import data_dir_option, hub_settings

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@data_dir_option
def serve(host: str, port: int, data_dir: Path | None) -> None:
    """Run the hub: the REST API under /api/v1 (docs at /docs).

    Every setting is a DLHUB_* environment variable (see docs/settings.md).

    \b
    Examples:
        dlhub serve                                   # http://127.0.0.1:5000, data in ~/.dlhub/server
        dlhub serve --host 0.0.0.0 --port 8080 --data-dir /srv/dlhub
    """
    import uvicorn

    from dlhub_server.app import create_app

    settings = hub_settings(data_dir)
    app = create_app(settings)
    click.echo(f"DLHub hub at http://{host}:{port} (data in {settings.data_dir})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
