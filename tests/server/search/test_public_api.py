"""The search package exports its API and nothing private."""

from __future__ import annotations

import importlib

import dlhub_server.search as package

MODULES = [
    "dlhub_server.search",
    "dlhub_server.search.analysis",
    "dlhub_server.search.engine",
    "dlhub_server.search.errors",
    "dlhub_server.search.indexer",
    "dlhub_server.search.query",
    "dlhub_server.search.schema",
    "dlhub_server.search.sqlite.compiler",
    "dlhub_server.search.sqlite.keys",
    "dlhub_server.search.sqlite.reader",
    "dlhub_server.search.sqlite.tokens",
    "dlhub_server.search.sqlite.writer",
]


def test_every_exported_name_exists_and_is_public() -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        exported = module.__all__
        assert len(exported) == len(set(exported)), name
        for attribute in exported:
            assert not attribute.startswith("_"), (name, attribute)
            assert hasattr(module, attribute), (name, attribute)


def test_the_package_exports_the_engine() -> None:
    assert set(package.__all__) == {
        "FACET_FIELDS",
        "QuerySyntaxError",
        "SearchPage",
        "create_search_schema",
        "drop_search_schema",
        "facets",
        "index_version",
        "optimize_search_index",
        "remove_version",
        "search",
    }
    assert issubclass(package.QuerySyntaxError, ValueError)


def test_importing_the_engine_imports_no_web_framework() -> None:
    import subprocess
    import sys

    code = "import sys, dlhub_server.search; print(sorted(m for m in ('fastapi', 'starlette') if m in sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
