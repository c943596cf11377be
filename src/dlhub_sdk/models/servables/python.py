"""Tools to annotate generic operations (e.g., class method calls) in Python."""

from __future__ import annotations

import os
import pickletools
from collections.abc import Callable
from typing import Any

from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models._argument_types import make_argument_type
from dlhub_sdk.models.servables import BaseServableModel, MethodMetadata
from dlhub_sdk.utils.types import compose_argument_block

__all__ = [
    "BasePythonServableModel",
    "PythonClassMethodModel",
    "PythonStaticMethodModel",
    "PythonStaticMethodServable",
    "add_extracted_metadata",
]


class BasePythonServableModel(BaseServableModel):
    """A servable run by Python code: inputs and outputs are set by hand or read from type hints."""

    @classmethod
    def create_model(  # type: ignore[override]
        cls, method: str, function_kwargs: dict[str, Any] | None = None
    ) -> Self:
        """Initialize a model for a python object.

        Args:
            method: Name of the method to run.
            function_kwargs: Default keyword arguments of the function (JSON-serializable).
        """
        model = cls()
        run = model.method("run")
        run.method_details = {"method_name": method}
        run.parameters = _check_kwargs(function_kwargs)
        return model

    def _set_argument(
        self,
        part: str,
        data_type: str,
        description: str,
        shape: Any,
        item_type: Any,
        method_name: str,
        **kwargs: Any,
    ) -> Self:
        # the default ``shape=()`` means "not given"; an explicit list ``[]`` is a 0-d array
        given_shape = None if shape is None or (isinstance(shape, tuple) and not shape) else shape
        block = compose_argument_block(
            data_type, description, shape=given_shape, item_type=item_type, **kwargs
        )
        methods = dict(self.servable.methods)
        method = methods.get(method_name, MethodMetadata())
        setattr(method, part, make_argument_type(block))
        methods[method_name] = method
        self.servable.methods = methods
        return self

    def set_inputs(
        self,
        data_type: str,
        description: str,
        shape: Any = (),
        item_type: Any = None,
        method_name: str = "run",
        **kwargs: Any,
    ) -> Self:
        """Define the inputs to the default ("run") function.

        Args:
            data_type: Type of the input data.
            description: Human-friendly description of the data.
            shape: Required for ``ndarray``. Use ``None`` for dimensions of any size.
            item_type: Description of the item type; required for ``list``.
            **kwargs: Other parts of the block (``element_types``, ``properties``, ...).

        Raises:
            InvalidArgumentType: The description breaks a rule of the manual.
        """
        return self._set_argument(
            "input", data_type, description, shape, item_type, method_name, **kwargs
        )

    def set_outputs(
        self,
        data_type: str,
        description: str,
        shape: Any = (),
        item_type: Any = None,
        method_name: str = "run",
        **kwargs: Any,
    ) -> Self:
        """Define the outputs of the default ("run") function (arguments as :meth:`set_inputs`)."""
        return self._set_argument(
            "output", data_type, description, shape, item_type, method_name, **kwargs
        )

    def _set_description(self, part: str, description: str, method: str) -> Self:
        argument = getattr(self.method(method), part)
        if argument is None:
            raise InvalidMetadata(
                f"the {part} of {method!r} is not defined yet",
                field=f"servable.methods.{method}.{part}",
            )
        argument.description = description
        return self

    def set_input_description(self, description: str, method: str = "run") -> Self:
        """Set the human-readable description of a method's inputs."""
        return self._set_description("input", description, method)

    def set_output_description(self, description: str, method: str = "run") -> Self:
        """Set the human-readable description of a method's outputs."""
        return self._set_description("output", description, method)

    def set_unpack_inputs(self, x: bool, method_name: str = "run") -> Self:
        """Define whether the inputs are unpacked into positional arguments (``f(*inputs)``).

        Set to ``True`` if the function takes more than one input.
        """
        method = self.method(method_name)
        method.method_details = {**method.method_details, "unpack": bool(x)}
        return self


def _check_kwargs(function_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    import json

    if function_kwargs is None:
        return {}
    if not isinstance(function_kwargs, dict):
        raise InvalidMetadata(
            "function_kwargs must be a dict", field="servable.methods.run.parameters"
        )
    try:
        json.dumps(function_kwargs)
    except TypeError as exc:
        raise InvalidMetadata(
            f"function_kwargs must be JSON-serializable: {exc}",
            field="servable.methods.run.parameters",
        ) from exc
    return dict(function_kwargs)


def add_extracted_metadata(
    func: Callable[..., Any], model: BasePythonServableModel
) -> BasePythonServableModel:
    """Fill a model's inputs, outputs, unpacking and parameters from a function's type hints.

    Args:
        func: The function whose hints describe it.
        model: The model to update.

    Returns:
        The same model, updated.
    """
    from dlhub_sdk.utils.inspect import describe_function

    described = describe_function(func)
    run = model.method("run")
    run.input = make_argument_type(described["input"])
    run.output = make_argument_type(described["output"])
    if described["unpack"]:
        run.method_details = {**run.method_details, "unpack": True}
    jsonable = {}
    for key, value in described["parameters"].items():
        try:
            _check_kwargs({key: value})
        except InvalidMetadata:
            continue  # a default the wire cannot carry stays the function's own
        jsonable[key] = value
    run.parameters = {**jsonable, **run.parameters}
    return model


class PythonStaticMethodModel(BasePythonServableModel):
    """A servable that calls a Python function importable from a module.

    For example ``numpy.sqrt``: ``PythonStaticMethodModel.from_function_pointer(numpy.sqrt)``.
    """

    servable_type = "Python static method"
    servable_shim = "python.PythonStaticMethodServable"

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        module: str | None = None,
        method: str | None = None,
        autobatch: bool = False,
        function_kwargs: dict[str, Any] | None = None,
        *,
        f: Callable[..., Any] | None = None,
        auto_inspect: bool = False,
    ) -> Self:
        """Describe a function by module and name, or by the function itself.

        Args:
            module: Name of the module holding the function.
            method: Name of the function.
            autobatch: Run the function on each member of a list input (``map(f, inputs)``).
            function_kwargs: Default keyword arguments (JSON-serializable).
            f: The function itself, instead of ``module`` and ``method``.
            auto_inspect: Read inputs and outputs from the function's type hints.

        Raises:
            TypeError: Neither ``f`` nor both ``module`` and ``method`` were given.
        """
        if f is not None:
            if module is not None or method is not None:
                raise TypeError("give either f or module and method, not both")
            module, method = f.__module__, f.__name__
        elif module is None or method is None:
            raise TypeError("give the function (f=...) or both its module and method name")
        elif auto_inspect:
            import importlib

            f = getattr(importlib.import_module(module), method)
        model = super().create_model(method, function_kwargs)
        run = model.method("run")
        run.method_details = {"module": module, "method_name": method, "autobatch": bool(autobatch)}
        if auto_inspect:
            assert f is not None
            add_extracted_metadata(f, model)
        return model

    @classmethod
    def from_function_pointer(
        cls,
        f: Callable[..., Any],
        autobatch: bool = False,
        function_kwargs: dict[str, Any] | None = None,
        auto_inspect: bool = False,
    ) -> Self:
        """Describe a function from the function itself.

        Args:
            f: The function to publish.
            autobatch: Run the function on each member of a list input.
            function_kwargs: Default keyword arguments.
            auto_inspect: Read inputs and outputs from its type hints.
        """
        return cls.create_model(
            autobatch=autobatch, function_kwargs=function_kwargs, f=f, auto_inspect=auto_inspect
        )


#: The name section 4.1.1 of the manual uses for :class:`PythonStaticMethodModel`.
PythonStaticMethodServable = PythonStaticMethodModel


def pickled_class_name(path: str) -> str | None:
    """The class of the object in a pickle file, read from its opcodes without unpickling it."""
    strings: list[str] = []
    with open(path, "rb") as fp:
        try:
            for opcode, arg, _ in pickletools.genops(fp):
                if opcode.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    return arg.replace(" ", ".")
                if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    return f"{strings[-2]}.{strings[-1]}"
                if isinstance(arg, str) and (
                    "UNICODE" in opcode.name or opcode.name.endswith("STRING")
                ):
                    strings.append(str(arg))
        except Exception:
            return None
    return None


class PythonClassMethodModel(BasePythonServableModel):
    """A servable that calls a method of a pickled Python object.

    Give the pickle file and the method to call; list the libraries the object's
    class needs as requirements, or add the file defining the class with ``add_file``.
    """

    servable_type = "Python class method"
    servable_shim = "python.PythonClassMethodServable"

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        path: str,
        method: str,
        function_kwargs: dict[str, Any] | None = None,
        *,
        auto_inspect: bool = False,
    ) -> Self:
        """Initialize a model for a method of a pickled object.

        Args:
            path: Path to the pickle file.
            method: Name of the method to call.
            function_kwargs: Default keyword arguments (JSON-serializable).
            auto_inspect: Unpickle the object here and read the method's type hints.

        Raises:
            FileNotFoundError: The pickle does not exist.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"pickle file not found: {path!r}")
        model = super().create_model(method, function_kwargs)
        model.add_file(path, name="pickle")
        details: dict[str, Any] = {"method_name": method}
        class_name = pickled_class_name(path)
        if class_name:
            details["class_name"] = class_name
        model.method("run").method_details = details
        if auto_inspect:
            import pickle

            with open(path, "rb") as fp:
                obj = pickle.load(fp)  # the user's own file, on the user's own machine
            add_extracted_metadata(getattr(obj, method), model)
        return model
