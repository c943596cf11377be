"""What every shim shares: the document, the files folder, methods and their parameters."""

from __future__ import annotations

import importlib
import os
from typing import Any

from dlhub_runtime.errors import MethodNotFound

__all__ = ["Shim", "import_object", "input_block", "output_block"]


class Shim:
    """A servable loaded once from its document and files, ready to run its methods.

    Subclasses load their model in :meth:`load` and run a method in :meth:`run`.

    Args:
        document: The servable's metadata document (``datacite``, ``dlhub``, ``servable``).
        folder: The folder holding its files; paths in ``dlhub.files`` are relative to it.

    Raises:
        ValueError: The document has no ``servable.methods``.
        FileNotFoundError: A file the shim needs is not in the folder.
    """

    def __init__(self, document: dict[str, Any], folder: str | os.PathLike[str]) -> None:
        self.document = document
        self.folder = os.path.abspath(folder)
        servable = document.get("servable") or {}
        self.methods: dict[str, dict[str, Any]] = dict(servable.get("methods") or {})
        if not self.methods:
            raise ValueError("the document defines no methods (servable.methods is empty)")
        self.options: dict[str, Any] = dict(servable.get("options") or {})
        self.load()

    def load(self) -> None:
        """Load the model; called once, by the constructor."""

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        """Run ``method`` on ``inputs`` with the merged ``parameters``."""
        raise NotImplementedError

    def call(self, method: str, inputs: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a method of the servable.

        Args:
            method: Name of the method (``"run"`` for the default one).
            inputs: The inputs, as the method's input type describes them.
            parameters: Overrides of the method's default parameters.

        Returns:
            The method's output.

        Raises:
            MethodNotFound: The document has no such method.
        """
        defaults = self.method(method).get("parameters") or {}
        return self.run(method, inputs, {**defaults, **(parameters or {})})

    def method(self, name: str) -> dict[str, Any]:
        """The document's block for a method.

        Raises:
            MethodNotFound: The document has no such method.
        """
        try:
            return self.methods[name]
        except KeyError:
            raise MethodNotFound(name, list(self.methods)) from None

    def details(self, name: str) -> dict[str, Any]:
        """The ``method_details`` of a method (empty when absent)."""
        return dict(self.method(name).get("method_details") or {})

    def file(self, key: str, fallback: str | None = None) -> str:
        """Local path of a named file of the document (``dlhub.files[key]``).

        Raises:
            FileNotFoundError: The document does not name it, or it is not in the folder.
        """
        files = (self.document.get("dlhub") or {}).get("files") or {}
        listed = files.get(key)
        if listed is None and fallback is not None:
            key, listed = fallback, files.get(fallback)
        if not isinstance(listed, str):
            raise FileNotFoundError(
                f"the document names no {key!r} file in dlhub.files (it has: {sorted(files)})"
            )
        return self.resolve(listed)

    def listed_files(self) -> list[str]:
        """Local paths of every file in ``dlhub.files``."""
        files = (self.document.get("dlhub") or {}).get("files") or {}
        paths: list[str] = []
        for value in files.values():
            items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            paths.extend(os.path.join(self.folder, item) for item in items if isinstance(item, str))
        return paths

    def resolve(self, relative: str) -> str:
        """Path of a document file inside the folder.

        Raises:
            FileNotFoundError: There is no such file.
        """
        path = os.path.join(self.folder, relative)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"file {relative!r} is not in the servable's folder {self.folder}"
            )
        return path


def input_block(shim: Shim, method: str) -> dict[str, Any]:
    """The argument-type block of a method's input (empty when absent)."""
    return dict(shim.method(method).get("input") or {})


def output_block(shim: Shim, method: str) -> dict[str, Any]:
    """The argument-type block of a method's output (empty when absent)."""
    return dict(shim.method(method).get("output") or {})


def import_object(path: str) -> Any:
    """The object a dotted path names (``package.module.Class``).

    Raises:
        ImportError: No module of the path can be imported, or it lacks the attribute.
    """
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise ImportError(f"{path!r} is not a dotted path like 'module.Class'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from None
