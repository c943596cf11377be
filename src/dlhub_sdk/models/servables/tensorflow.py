"""Describing TensorFlow ``SavedModel`` directories, from their signatures.

Each signature of the model becomes a method of the servable; the default one
(``serving_default``) is renamed ``run``. Inputs and outputs are ``ndarray``
blocks (a ``tuple`` called "Several tensors" when there are several, ordered by
their description). Both kinds of SavedModel are read:

* TF1 (``SavedModelBuilder``): descriptions are the signature's argument names;
  ``method_details`` holds ``input_nodes`` and ``output_nodes``, the graph tensors
  a session feeds and fetches, in the order of the tuple members.
* TF2 (``tf.saved_model.save``): descriptions are the tensor names inside the
  signature's function (``x:0``, ``Identity:0``); ``method_details`` holds
  ``signature`` (the key in ``loaded.signatures``), ``input_names`` (the keyword
  arguments of that function, in the order of the tuple members) and
  ``output_names`` (the keys of the dict it returns, in order).

``servable.options.saved_model_format`` is ``"tf1"`` or ``"tf2"``; the named file
``model`` is the directory's ``saved_model.pb`` and every file of the directory
is listed.
"""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any

from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models.servables import BaseServableModel
from dlhub_sdk.utils.types import compose_argument_block

__all__ = ["TensorFlowModel", "tensorflow_distribution"]

#: The signature TensorFlow calls by default (``DEFAULT_SERVING_SIGNATURE_DEF_KEY``).
DEFAULT_SIGNATURE = "serving_default"

#: Distributions that install the ``tensorflow`` package, most common first.
_TF_DISTRIBUTIONS = (
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tensorflow-gpu",
    "tf-nightly",
    "tf-nightly-cpu",
)


def tensorflow_distribution() -> tuple[str, str]:
    """The installed TensorFlow distribution and its version (``('tensorflow-cpu', '2.21.0')``).

    The servable's environment gets the same distribution the model was described
    with (a CPU-only build stays CPU-only).
    """
    for name in _TF_DISTRIBUTIONS:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    import tensorflow as tf

    return "tensorflow", str(tf.__version__)


class _Tensor:
    """One input or output of a signature: what describes it and what calls it."""

    def __init__(self, key: str, node: str, shape: list[int | None] | None, dtype: Any) -> None:
        self.key = key
        self.node = node
        self.shape = shape
        self.dtype = dtype


def _item_type(dtype: Any) -> str | None:
    if dtype.is_bool:
        return "boolean"
    if dtype.is_complex:
        return "complex"
    if dtype.is_floating:
        return "float"
    if dtype.is_integer:
        return "integer"
    if dtype.name == "string":
        return "string"
    return None


def _block(description: str, tensor: _Tensor) -> dict[str, Any]:
    shape = tensor.shape
    if shape is None:  # unknown rank: any number of dimensions of any size
        description, shape = f"{description} (any shape)", [None]
    return compose_argument_block(
        "ndarray", description, shape=shape, item_type=_item_type(tensor.dtype)
    )


def _describe(tensors: list[_Tensor], describe_by: str) -> tuple[dict[str, Any], list[_Tensor]]:
    """The argument block of a signature's tensors, and the tensors in the block's order."""
    ordered = sorted(tensors, key=lambda t: getattr(t, describe_by))
    blocks = [_block(getattr(t, describe_by), t) for t in ordered]
    if len(blocks) == 1:
        return blocks[0], ordered
    members: list[str | dict[str, Any]] = list(blocks)
    return compose_argument_block("tuple", "Several tensors", element_types=members), ordered


def _read_saved_model(export_directory: str) -> Any:
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(export_directory, "saved_model.pb")
    if not os.path.isfile(path):
        raise InvalidMetadata(
            f"{export_directory!r} holds no saved_model.pb: save the model with "
            "tf.saved_model.save (TF2) or SavedModelBuilder (TF1)",
            field="dlhub.files",
        )
    saved = saved_model_pb2.SavedModel()
    try:
        with open(path, "rb") as fp:
            saved.ParseFromString(fp.read())
    except Exception as exc:
        raise InvalidMetadata(
            f"{path!r} is not a TensorFlow SavedModel: {exc}", field="dlhub.files"
        ) from exc
    for meta_graph in saved.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return meta_graph
    tags = [list(m.meta_info_def.tags) for m in saved.meta_graphs]
    raise InvalidMetadata(
        f"the SavedModel in {export_directory!r} has no graph tagged 'serve' (tags: {tags})",
        field="dlhub.files",
    )


def _tf1_signatures(meta_graph: Any) -> dict[str, tuple[list[_Tensor], list[_Tensor]]]:
    import tensorflow as tf

    def tensors(infos: Any) -> list[_Tensor]:
        found = []
        for key, info in infos.items():
            shape = None
            if not info.tensor_shape.unknown_rank:
                shape = [d.size if d.size >= 0 else None for d in info.tensor_shape.dim]
            found.append(_Tensor(key, info.name, shape, tf.dtypes.as_dtype(info.dtype)))
        return found

    return {
        key: (tensors(sig.inputs), tensors(sig.outputs))
        for key, sig in meta_graph.signature_def.items()
    }


def _tf2_signatures(export_directory: str) -> dict[str, tuple[list[_Tensor], list[_Tensor]]]:
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(export_directory)
    except Exception as exc:
        raise InvalidMetadata(
            f"TensorFlow cannot load the SavedModel in {export_directory!r}: {exc}",
            field="dlhub.files",
        ) from exc

    def shape_of(spec: Any) -> list[int | None] | None:
        return None if spec.shape.rank is None else list(spec.shape.as_list())

    signatures = {}
    for key, function in loaded.signatures.items():
        # Signature functions take keyword arguments only; TensorFlow orders
        # them (and the returned dict) by key, as are the graph's placeholders.
        arguments = function.structured_input_signature[1]
        input_keys = sorted(arguments)
        inputs = [
            _Tensor(k, tensor.name, shape_of(arguments[k]), arguments[k].dtype)
            for k, tensor in zip(input_keys, function.inputs)
        ]
        results = function.structured_outputs
        output_keys = sorted(results)
        outputs = [
            _Tensor(k, tensor.name, shape_of(results[k]), results[k].dtype)
            for k, tensor in zip(output_keys, function.outputs)
        ]
        signatures[key] = (inputs, outputs)
    return signatures


class TensorFlowModel(BaseServableModel):
    """Class for generating descriptions of a TensorFlow model.

    Assumes that a model has been saved using the ``tf.saved_model`` module. Users
    must provide the output directory for the Tensorflow model, and this tool will
    infer all functions that were defined for this model.

    Note: DLHub assumes that the default method for a servable is "run" and
    TensorFlow assumes it to be
    ``tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY``
    (currently defined as "serving_default"). We will rename the default method to "run".
    """

    servable_type = "TensorFlow Model"
    servable_shim = "tensorflow.TensorFlowServable"

    @classmethod
    def create_model(cls, export_directory: str) -> Self:  # type: ignore[override]
        """Initialize the description of a TensorFlow model.

        Args:
            export_directory: Path to the output directory of a Tensorflow model.

        Raises:
            FileNotFoundError: The directory does not exist.
            InvalidMetadata: It holds no SavedModel, the model cannot be loaded,
                or it has no default (``serving_default``) signature.
        """
        export_directory = os.fspath(export_directory)
        if not os.path.isdir(export_directory):
            raise FileNotFoundError(f"SavedModel directory not found: {export_directory!r}")
        meta_graph = _read_saved_model(export_directory)
        tf2 = len(meta_graph.object_graph_def.nodes) > 0
        if tf2:
            signatures = _tf2_signatures(export_directory)
        else:
            signatures = _tf1_signatures(meta_graph)
        signatures = {k: v for k, v in signatures.items() if not k.startswith("__")}
        if DEFAULT_SIGNATURE not in signatures:
            raise InvalidMetadata(
                f"the SavedModel has no default signature ({DEFAULT_SIGNATURE!r}), which "
                f"DLHub serves as 'run'; its signatures are {sorted(signatures)}. Save it with "
                "signatures={tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: ...}",
                field="servable.methods.run",
            )

        model = cls()
        model.servable.methods = {}
        for key in sorted(signatures, key=lambda k: (k != DEFAULT_SIGNATURE, k)):
            inputs, outputs = signatures[key]
            if not inputs or not outputs:
                raise InvalidMetadata(
                    f"signature {key!r} has no {'inputs' if not inputs else 'outputs'}; "
                    "DLHub serves functions of tensors that return tensors",
                    field="servable.methods",
                )
            describe_by = "node" if tf2 else "key"
            input_block, inputs = _describe(inputs, describe_by)
            output_block, outputs = _describe(outputs, describe_by)
            if tf2:
                details: dict[str, Any] = {
                    "signature": key,
                    "input_names": [t.key for t in inputs],
                    "output_names": [t.key for t in outputs],
                }
            else:
                details = {
                    "input_nodes": [t.node for t in inputs],
                    "output_nodes": [t.node for t in outputs],
                }
            name = "run" if key == DEFAULT_SIGNATURE else key
            model.register_function(name, input_block, output_block, method_details=details)

        model.servable.options = {"saved_model_format": "tf2" if tf2 else "tf1"}
        model.add_requirement(*tensorflow_distribution())
        model.add_file(os.path.join(export_directory, "saved_model.pb"), name="model")
        model.add_directory(export_directory, recursive=True)
        return model
