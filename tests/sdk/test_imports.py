"""What importing the SDK costs: no ML framework and no server dependency is loaded."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import dlhub_sdk

HEAVY = [
    "tensorflow",
    "keras",
    "torch",
    "sklearn",
    "fastapi",
    "sqlalchemy",
    "uvicorn",
    "dlhub_server",
]


def _modules_loaded_by(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _sdk_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(dlhub_sdk.__path__, prefix="dlhub_sdk."):
        names.append(info.name)
    return sorted(names)


def test_import_dlhub_sdk_stays_light() -> None:
    loaded = _modules_loaded_by("import dlhub_sdk")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_every_sdk_module_imports_without_frameworks() -> None:
    imports = "\n".join(f"import {name}" for name in _sdk_modules())
    loaded = _modules_loaded_by(imports)
    heavy = sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
    assert heavy == [], f"importing the SDK modules loaded {heavy}"


def test_public_names_are_exported_and_private_ones_are_not() -> None:
    for name in _sdk_modules():
        if any(part.startswith("_") for part in name.split(".")):
            continue
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            continue
        for attr in exported:
            assert hasattr(module, attr), f"{name}.__all__ lists {attr!r}, which does not exist"
            assert not attr.startswith("_") or attr == "__version__", (
                f"{name}.__all__ exports private {attr!r}"
            )
