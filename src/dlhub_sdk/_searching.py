"""Finding servables from the client: ``search``, the ``search_by_*`` shortcuts and ``query``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlhub_sdk.utils.search import DLHubSearchHelper

__all__ = ["SearchingMixin"]

#: Results asked for per page when walking every match.
SEARCH_PAGE = 1000


class SearchingMixin:
    """Search methods of :class:`~dlhub_sdk.client.DLHubClient` (needs ``_send``)."""

    _send: Callable[..., Any]

    @property
    def query(self) -> DLHubSearchHelper:
        """A blank query builder bound to this client (``client.query.match_term(...).search()``)."""
        return DLHubSearchHelper(self)

    def search(
        self,
        query: str,
        advanced: bool = False,
        limit: int | None = None,
        only_latest: bool = True,
        sort: list[dict[str, str]] | None = None,
        get_info: bool = False,
    ) -> Any:
        """Query the hub's servables.

        Args:
            query: Free text (ranked), or with ``advanced=True`` a Lucene query over
                any dotted metadata path (``servable.type:"Keras Model" AND
                dlhub.domains:"chemistry"``, ranges, wildcards, ...).
            advanced: Read ``query`` as a Lucene query string.
            limit: Most results to return; ``None`` for every match (no silent cap).
            only_latest: Only the newest version of each servable you can see.
            sort: ``[{"field_name": path, "order": "asc"|"desc"}]``; default: relevance.
            get_info: Also return ``{"total", "scores"}``.

        Returns:
            The matching documents (with native types), best first; with ``get_info``,
            ``(documents, info)``.

        Raises:
            BadRequest: The query is malformed; the message points at the error.
        """
        import json

        results: list[dict[str, Any]] = []
        scores: list[float] = []
        total = 0
        offset: int | None = 0
        while offset is not None:
            size = SEARCH_PAGE if limit is None else min(SEARCH_PAGE, limit - len(results))
            params: dict[str, Any] = {
                "q": query,
                "advanced": advanced,
                "limit": size,
                "offset": offset,
                "only_latest": only_latest,
            }
            if sort:
                params["sort"] = json.dumps(sort)
            page = self._send("GET", "/api/v1/search", params=params).json()
            results += page["items"]
            scores += page.get("scores", [])
            total = int(page.get("total", len(results)))
            offset = page.get("next_offset")
            if limit is not None and len(results) >= limit:
                break
        if get_info:
            return results, {"total": total, "scores": scores, "query": query, "advanced": advanced}
        return results

    def facets(
        self, query: str = "", advanced: bool = False, only_latest: bool = True
    ) -> dict[str, Any]:
        """Counts of the matches of a query by servable type, domain, owner and author."""
        params = {"q": query, "advanced": advanced, "only_latest": only_latest}
        counts: dict[str, Any] = self._send("GET", "/api/v1/search/facets", params=params).json()
        return counts

    def search_by_servable(
        self,
        servable_name: str | None = None,
        owner: str | None = None,
        version: int | None = None,
        only_latest: bool = True,
        limit: int | None = None,
        get_info: bool = False,
    ) -> Any:
        """Search by the owner, name or version number of servables.

        Args:
            servable_name: The servable's name (``None``: any).
            owner: The owner's user name (``None``: any).
            version: A version number (``None``: any).
            only_latest: Only the newest version of each (ignored when ``version`` is given).
            limit: Most results; ``None`` for all.
            get_info: Also return information about the query.
        """
        if servable_name is None and owner is None and version is None:
            raise ValueError("give at least one of servable_name, owner or version")
        helper = self.query.match_servable(servable_name, owner, version=version)
        return helper.search(
            limit=limit, info=get_info, only_latest=only_latest and version is None
        )

    def search_by_authors(
        self,
        authors: str | list[str],
        match_all: bool = True,
        limit: int | None = None,
        only_latest: bool = True,
    ) -> Any:
        """Servables by their authors (``"Family, Given"``): all of them, or any with ``match_all=False``."""
        return self.query.match_authors(authors, match_all).search(
            limit=limit, only_latest=only_latest
        )

    def search_by_related_doi(
        self, doi: str, limit: int | None = None, only_latest: bool = True
    ) -> Any:
        """Servables whose own DOI or a related identifier (e.g. the paper describing them) is ``doi``."""
        return self.query.match_doi(doi).search(limit=limit, only_latest=only_latest)
