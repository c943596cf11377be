"""Search: ranked free text or Lucene-syntax queries, paged, and facets for the catalog."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from dlhub_server.errors import BadRequest
from dlhub_server.hub import Hub
from dlhub_server.routes._deps import CurrentCaller, CurrentHub
from dlhub_server.search import QuerySyntaxError, facets, search
from dlhub_server.visibility import Viewer

__all__ = ["MAX_PAGE", "router"]

router = APIRouter(prefix="/search", tags=["search"])

#: Most results one page carries; the client walks pages for more (there is no silent cap).
MAX_PAGE = 1000


def _sort(text: str | None) -> list[dict[str, Any]] | None:
    """``[{"field_name", "order"}]`` from JSON, or from ``path:asc,path2:desc``."""
    if not text:
        return None
    if text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"sort is not valid JSON: {exc}") from None
        if not isinstance(parsed, list):
            raise BadRequest('sort must be a list of {"field_name": ..., "order": "asc"|"desc"}')
        return parsed
    items = []
    for part in text.split(","):
        field, _, order = part.strip().partition(":")
        items.append({"field_name": field, "order": order or "asc"})
    return items


def _run_search(hub: Hub, viewer: Viewer, **options: Any) -> dict[str, Any]:
    try:
        with hub.engine.connect() as connection:
            page = search(connection, principals=viewer.principals(), **options)
    except QuerySyntaxError as exc:
        raise BadRequest(
            f"the query cannot be parsed: {exc}", details={"query": options["query"]}
        ) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    offset, shown = options["offset"], len(page.results)
    following = offset + shown
    return {
        "items": page.results,
        "scores": page.scores,
        "total": page.total,
        "limit": options["limit"],
        "offset": offset,
        "next_offset": following if following < page.total and shown else None,
    }


@router.get("")
async def search_documents(
    caller: CurrentCaller,
    hub: CurrentHub,
    q: Annotated[
        str, Query(description="Free text, or a Lucene query string with advanced=true")
    ] = "",
    advanced: bool = False,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    only_latest: bool = True,
    sort: Annotated[str | None, Query(description='"path:asc,path2:desc" or a JSON list')] = None,
) -> dict[str, Any]:
    """The documents you may see that match the query, best first (one page; follow ``next_offset``)."""
    return await run_in_threadpool(
        _run_search,
        hub,
        caller.viewer,
        query=q,
        advanced=advanced,
        limit=limit,
        offset=offset,
        only_latest=only_latest,
        sort=_sort(sort),
    )


def _run_facets(
    hub: Hub, viewer: Viewer, query: str, advanced: bool, only_latest: bool
) -> dict[str, Any]:
    try:
        with hub.engine.connect() as connection:
            return facets(
                connection,
                query,
                advanced=advanced,
                principals=viewer.principals(),
                only_latest=only_latest,
            )
    except QuerySyntaxError as exc:
        raise BadRequest(f"the query cannot be parsed: {exc}", details={"query": query}) from None


@router.get("/facets")
async def search_facets(
    caller: CurrentCaller,
    hub: CurrentHub,
    q: str = "",
    advanced: bool = False,
    only_latest: bool = True,
) -> dict[str, Any]:
    """Counts of the matches by servable type, domain, owner and author."""
    return await run_in_threadpool(_run_facets, hub, caller.viewer, q, advanced, only_latest)
