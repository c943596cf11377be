"""Describing PyTorch models saved whole with ``torch.save`` or as TorchScript.

PyTorch files do not record the shapes of a model's inputs and outputs, so they
are given to :meth:`TorchModel.create_model`; the file is read to check that it
holds a model and to summarise it.

For the runtime: the model file is the named file ``model``;
``servable.options.torchscript`` says how to load it (``True``: ``torch.jit.load``;
``False``: ``torch.load(path, weights_only=False)``, which needs the module
defining the model's class to be importable, e.g. a ``Net.py`` added with
``add_file``). ``method_details.method_name`` is ``"__call__"``; a tuple input
is passed to the model as several positional arguments.
"""

from __future__ import annotations

import io
import os
import pickletools
import warnings
import zipfile
from collections.abc import Sequence
from typing import Any

from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models._argument_types import ARGUMENT_TYPES, ArgumentTypeMetadata
from dlhub_sdk.models.servables.python import BasePythonServableModel
from dlhub_sdk.utils.types import compose_argument_block, simplify_numpy_dtype

__all__ = ["TorchModel", "is_torchscript_file"]

Shape = Sequence[int | None]


class TorchModel(BasePythonServableModel):
    """Servable based on a Torch Model object.

    Assumes that the model has been saved to a ``.pt`` or ``.pth`` file, either the
    whole model (``torch.save(model, path)``) or TorchScript (``torch.jit.save``).
    """

    servable_type = "Torch Model"
    servable_shim = "torch.TorchServable"

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        model_path: str,
        input_shape: Shape | Sequence[Shape],
        output_shape: Shape | Sequence[Shape],
        input_type: str | Any | Sequence[str | Any] = "float",
        output_type: str | Any | Sequence[str | Any] = "float",
    ) -> Self:
        """Initialize a PyTorch model.

        Args:
            model_path: Path to the pt or pth file that contains the weights and the architecture.
            input_shape: Shape of the input array (``None`` for a dimension of any size), or a
                list of shapes for a model taking several tensors.
            output_shape: Shape of the output array, or a list of shapes.
            input_type: Data type of the inputs (``'float'``, ``'integer'``, ..., or a torch or
                numpy dtype such as ``torch.int64`` / ``'float32'``); one per input, or one for all.
            output_type: Data type of the outputs, as ``input_type``.

        Raises:
            FileNotFoundError: There is no file at ``model_path``.
            InvalidMetadata: A shape or type is malformed, or the file holds no model
                that can be loaded here (the message says why).
        """
        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"PyTorch model file not found: {model_path!r}")
        model = super().create_model("__call__")
        inputs = model.format_layer_spec(input_shape, input_type)
        outputs = model.format_layer_spec(output_shape, output_type)

        torchscript = is_torchscript_file(model_path)
        loaded = _load_model(model_path, torchscript)

        import torch

        model.add_file(model_path, name="model")
        run = model.method("run")
        run.input = ArgumentTypeMetadata.model_validate(inputs)
        run.output = ArgumentTypeMetadata.model_validate(outputs)
        model.servable.model_summary = str(loaded)
        model.servable.model_type = "Deep NN"
        model.servable.options = {"torchscript": torchscript}
        model.add_requirement("torch", str(torch.__version__))
        # arrays reach the model and leave it as numpy arrays, which torch does not require
        model.add_requirement("numpy", "detect")
        return model

    def format_layer_spec(
        self, layers: Shape | Sequence[Shape], datatypes: str | Any | Sequence[str | Any]
    ) -> dict[str, Any]:
        """Make a description of a list of input or output layers.

        Args:
            layers: Shape of the layer (a tuple such as ``(None, 10)``), or a list of shapes.
            datatypes: Data type of each layer, or one type for all of them.

        Returns:
            (dict) Description of the inputs / outputs: an ``ndarray``, or a ``tuple``
            of them for several layers.

        Raises:
            InvalidMetadata: A shape or type is malformed, or there is not one type per layer.
        """
        if _is_shape(layers):
            if not isinstance(datatypes, str) and _is_sequence(datatypes):
                raise InvalidMetadata(
                    f"one layer needs one data type, not {list(datatypes)!r}",
                    field="servable.methods.run",
                )
            return compose_argument_block(
                "ndarray",
                "Tensor",
                shape=list(layers),  # type: ignore[arg-type]
                item_type=_type_name(datatypes),
            )
        if not _is_sequence(layers) or not layers:
            raise InvalidMetadata(
                f"a shape is a tuple of sizes (None for any size) or a list of such tuples, "
                f"not {layers!r}",
                field="servable.methods.run",
            )
        shapes: list[Any] = list(layers)
        if isinstance(datatypes, str) or not _is_sequence(datatypes):
            types = [datatypes] * len(shapes)
        else:
            types = list(datatypes)
        if len(types) != len(shapes):
            raise InvalidMetadata(
                f"{len(shapes)} layers but {len(types)} data types; give one type per layer "
                "or a single type for all",
                field="servable.methods.run",
            )
        for shape in shapes:
            if not _is_shape(shape):
                raise InvalidMetadata(
                    f"{shape!r} is not a shape: use a tuple of sizes, None for any size",
                    field="servable.methods.run",
                )
        return compose_argument_block(
            "tuple",
            "Tuple of tensors",
            element_types=[self.format_layer_spec(s, t) for s, t in zip(shapes, types)],
        )


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _is_shape(value: Any) -> bool:
    """A shape is a list or tuple whose members are sizes (positive integers) or None."""
    return _is_sequence(value) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in value
    )


def _type_name(datatype: Any) -> str:
    """A DLHub type name for a DLHub name, a numpy dtype name, or a torch dtype."""
    if isinstance(datatype, str) and datatype in ARGUMENT_TYPES:
        return datatype
    text = str(datatype).removeprefix("torch.")
    if text.startswith(("bfloat", "float8")):
        return "float"  # floating types numpy does not have
    try:
        return simplify_numpy_dtype(text)
    except (TypeError, ValueError):
        raise InvalidMetadata(
            f"unknown data type {datatype!r}; use one of {', '.join(ARGUMENT_TYPES)} "
            "or a numpy / torch dtype such as 'float32'",
            field="servable.methods.run",
        ) from None


def is_torchscript_file(path: str) -> bool:
    """Whether ``path`` was written by ``torch.jit.save`` (its archive holds compiled code)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def _pickled_class(path: str) -> str | None:
    """The class of the object ``torch.save`` pickled, read without unpickling it."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if not members:
            return None
        data = archive.read(members[0])
    strings: list[str] = []
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "GLOBAL" and isinstance(arg, str):
                return arg.replace(" ", ".")
            if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                return f"{strings[-2]}.{strings[-1]}"
            if isinstance(arg, str):
                strings.append(arg)
    except Exception:
        return None
    return None


def _load_model(path: str, torchscript: bool) -> Any:
    import torch

    if torchscript:
        try:
            with warnings.catch_warnings():
                # torch.jit.load is deprecated in favour of torch.export, but it is the
                # only reader of the TorchScript files users already have.
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.load(path, map_location="cpu")
        except Exception as exc:
            raise InvalidMetadata(
                f"cannot load the TorchScript file {path!r}: {exc}", field="dlhub.files.model"
            ) from exc

    class_name = _pickled_class(path)
    if class_name is not None and class_name.startswith("__main__."):
        raise InvalidMetadata(
            f"the model's class {class_name.removeprefix('__main__.')} was defined in the script "
            "that saved it (__main__), so no other program can load the file. Move the class "
            "to a module (e.g. Net.py), import it from there, save the model again and add "
            "the module with add_file('Net.py'); or save TorchScript with torch.jit.save",
            field="dlhub.files.model",
        )
    try:
        # The user's own file, read on the user's machine: a whole model is a pickle.
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    except (ImportError, AttributeError) as exc:
        raise InvalidMetadata(
            f"cannot load {path!r}: the class of the model is not importable here ({exc}). "
            "Make the module defining it importable and add it with add_file",
            field="dlhub.files.model",
        ) from exc
    except Exception as exc:
        raise InvalidMetadata(
            f"cannot read {path!r} as a PyTorch model: {exc}", field="dlhub.files.model"
        ) from exc
    if not isinstance(loaded, torch.nn.Module):
        hint = " (a state_dict?)" if isinstance(loaded, dict) else ""
        raise InvalidMetadata(
            f"{path!r} holds a {type(loaded).__name__}{hint}, not a model: save the whole "
            "model with torch.save(model, path), or TorchScript with torch.jit.save",
            field="dlhub.files.model",
        )
    return loaded
