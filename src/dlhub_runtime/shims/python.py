"""Python functions: a static method imported from a module, or a method of a pickled object.

``method_details`` of each method: ``method_name`` (the function or method),
``module`` (static methods), ``autobatch`` (call once per member of a list input)
and ``unpack`` (spread the inputs as positional arguments). The method's
``parameters`` are keyword arguments, overridden by those of the call.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable
from typing import Any

from dlhub_runtime.shims.base import Shim

__all__ = ["PythonClassMethodShim", "PythonStaticMethodShim", "apply_function"]


def apply_function(
    function: Callable[..., Any], inputs: Any, details: dict[str, Any], kwargs: dict[str, Any]
) -> Any:
    """Call a function the way ``method_details`` says (``autobatch``, ``unpack``).

    Raises:
        TypeError: ``autobatch`` is set but the inputs are not a list.
    """
    unpack = bool(details.get("unpack", False))
    if details.get("autobatch", False):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(
                f"this servable runs once per member of a list (autobatch), "
                f"but the inputs are a {type(inputs).__name__}"
            )
        if unpack:
            return [function(*item, **kwargs) for item in inputs]
        return [function(item, **kwargs) for item in inputs]
    if unpack:
        return function(*inputs, **kwargs)
    return function(inputs, **kwargs)


def _attribute(owner: Any, dotted: str, where: str) -> Any:
    target = owner
    for part in dotted.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AttributeError(f"{where} has no attribute {dotted!r}") from None
    return target


class PythonStaticMethodShim(Shim):
    """Runs ``module.function``; the servable's folder is importable (an ``app.py`` works)."""

    def load(self) -> None:
        self.functions: dict[str, Callable[..., Any]] = {}
        for name in self.methods:
            details = self.details(name)
            module_name, function_name = details.get("module"), details.get("method_name")
            if not module_name or not function_name:
                raise ValueError(
                    f"servable.methods.{name}.method_details needs 'module' and 'method_name'"
                )
            module = importlib.import_module(module_name)
            self.functions[name] = _attribute(module, function_name, f"module {module_name!r}")

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        return apply_function(self.functions[method], inputs, self.details(method), parameters)


class PythonClassMethodShim(Shim):
    """Runs a method of the object pickled in the document's ``pickle`` file."""

    def load(self) -> None:
        with open(self.file("pickle"), "rb") as fp:
            # the servable's own file, inside its own worker: the one place a pickle may open
            self.target = pickle.load(fp)
        self.bound: dict[str, Callable[..., Any]] = {}
        for name in self.methods:
            method_name = self.details(name).get("method_name")
            if not method_name:
                raise ValueError(f"servable.methods.{name}.method_details needs 'method_name'")
            owner = f"the pickled {type(self.target).__name__}"
            self.bound[name] = _attribute(self.target, method_name, owner)

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        return apply_function(self.bound[method], inputs, self.details(method), parameters)
