"""The hub's web application: ``create_app(settings)`` returns the FastAPI app.

The REST API lives under ``/api/v1`` (OpenAPI at ``/openapi.json``, docs at
``/docs``). Opening the app migrates the database and opens the blob store; the
hub's parts are on ``app.state.hub`` (:class:`dlhub_server.hub.Hub`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from dlhub_server.discovery import keep_index_current
from dlhub_server.errors import install_error_handlers
from dlhub_server.execution.service import ExecutionService
from dlhub_server.hub import Hub
from dlhub_server.routes import api_router
from dlhub_server.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the hub's app.

    Args:
        settings: The hub's settings (default: read from ``DLHUB_*`` variables).

    Returns:
        The FastAPI app, ready for uvicorn or a test client.
    """
    from dlhub_sdk.version import __version__

    hub = Hub.open(settings or Settings.from_env())
    keep_index_current(hub.events)
    execution = ExecutionService(hub)
    execution.start()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # stopping workers waits on their pipes: not on the event loop's thread
        await run_in_threadpool(execution.close)
        hub.close()

    app = FastAPI(
        title="DLHub",
        version=__version__,
        description="Publish, discover and run scientific models and functions (servables).",
        openapi_url="/openapi.json",
        docs_url="/docs",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.execution = execution
    install_error_handlers(app)
    app.include_router(api_router())
    return app
