"""The REST API under ``/api/v1``, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from dlhub_server.routes import accounts, groups, runs, search, servables, tasks

__all__ = ["api_router"]


def api_router() -> APIRouter:
    """Every route of the API, mounted under ``/api/v1``."""
    router = APIRouter(prefix="/api/v1")
    for module in (accounts, groups, servables, tasks, runs, search):
        router.include_router(module.router)
    return router
