"""Describing Keras models saved to a file (``.keras``, or HDF5 ``.h5``).

The model is loaded (without its training configuration) to read the shapes of
its inputs and outputs and a summary of its layers.

For the runtime: the model file is the named file ``model``; when the
architecture is a separate file (``arch``: JSON from ``model.to_json()``, or a
model file) ``model`` holds only the weights. ``servable.options`` holds
``backend`` (the Keras backend the model was described with), and, when set,
``custom_objects`` (name given to ``load_model`` -> ``module.Class`` import path)
and ``force_tf_keras`` (load with ``tf.keras``). ``method_details.method_name``
is ``"predict"``; a tuple input is a list of arrays for a multi-input model.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
from collections.abc import Sequence
from typing import Any

from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models._argument_types import ArgumentTypeMetadata, make_argument_type
from dlhub_sdk.models.servables.python import BasePythonServableModel
from dlhub_sdk.utils.types import compose_argument_block

__all__ = ["KerasModel"]

_HDF5 = (".h5", ".hdf5", ".hdf", ".hd5")
_MODEL_FILES = (".keras", *_HDF5)


class KerasModel(BasePythonServableModel):
    """Servable based on a Keras Model object.

    Assumes that the model has been saved to a file with ``model.save`` (a
    ``.keras`` or HDF5 file), or as an architecture and a weights file.
    """

    servable_type = "Keras Model"
    servable_shim = "keras.KerasServable"

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        model_path: str,
        output_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
        arch_path: str | None = None,
        custom_objects: dict[str, Any] | None = None,
        force_tf_keras: bool = False,
    ) -> Self:
        """Initialize a Keras model.

        Args:
            model_path: Path to the file that contains the weights and, optionally,
                the architecture (``.keras`` or ``.h5``).
            output_names: Names of output classes; one list per output layer if there are several.
            arch_path: Path to the architecture (JSON from ``model.to_json()``, or a model
                file), if not available in the file at ``model_path``.
            custom_objects: Map of layer names to custom layers (classes), as given to
                Keras' ``load_model``.
            force_tf_keras: Use ``tf.keras`` even if Keras is installed on its own.

        Raises:
            FileNotFoundError: A file does not exist.
            InvalidMetadata: A file is not a Keras model or needs custom objects,
                or an argument is malformed (the message says which).
        """
        for path, what in ((model_path, "model"), (arch_path, "architecture")):
            if path is None:
                continue
            if os.path.isdir(path):
                raise InvalidMetadata(
                    f"{path!r} is a directory (a SavedModel?): describe it with TensorFlowModel",
                    field="dlhub.files",
                )
            if not os.path.isfile(path):
                raise FileNotFoundError(f"Keras {what} file not found: {path!r}")
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise InvalidMetadata(
                "custom_objects must be a dict of names to classes",
                field="servable.options.custom_objects",
            )
        classes = None if output_names is None else _names(output_names)

        keras = _keras(force_tf_keras)
        model = super().create_model("predict")
        model.add_file(model_path, name="model")
        if arch_path is not None:
            model.add_file(arch_path, name="arch")
        for name, custom in (custom_objects or {}).items():
            model.add_custom_object(name, custom)

        network = _load(keras, model_path, arch_path, custom_objects)
        run = model.method("run")
        try:
            input_shape, output_shape = network.input_shape, network.output_shape
        except (AttributeError, ValueError):
            pass  # a model with no defined inputs: the user describes them with set_inputs
        else:
            run.input = model.format_layer_spec(input_shape)
            run.output = model.format_layer_spec(output_shape)
        if classes is not None:
            run.method_details = {**run.method_details, "classes": classes}

        lines: list[str] = []
        network.summary(print_fn=lambda line, *args, **kwargs: lines.append(str(line)))
        model.servable.model_summary = "\n".join(lines)
        model.servable.model_type = "Deep NN"

        options = dict(model.servable.options or {})
        options["backend"] = str(keras.backend.backend())
        if force_tf_keras:
            options["force_tf_keras"] = True
        model.servable.options = options
        model._add_framework_requirements(keras, model_path, arch_path)
        return model

    def format_layer_spec(self, layers: Any) -> ArgumentTypeMetadata:
        """Make a description of a list of input or output layers.

        Args:
            layers (tuple or [tuple]): Shape of the layer, or a list of shapes for several layers.

        Returns:
            Description of the inputs / outputs: an ``ndarray`` ("Tensor"), or a
            ``tuple`` of them ("Tuple of tensors") for several layers.
        """
        if isinstance(layers, (list, tuple)) and all(
            d is None or isinstance(d, int) for d in layers
        ):
            return make_argument_type(
                compose_argument_block("ndarray", "Tensor", shape=list(layers))
            )
        if isinstance(layers, dict):
            layers = list(layers.values())
        if not isinstance(layers, (list, tuple)) or not layers:
            raise InvalidMetadata(
                f"a layer shape is a tuple of sizes or a list of them, not {layers!r}",
                field="servable.methods.run",
            )
        return make_argument_type(
            compose_argument_block(
                "tuple",
                "Tuple of tensors",
                element_types=[self.format_layer_spec(shape).to_dict() for shape in layers],
            )
        )

    def add_custom_object(self, name: str, custom_object: Any) -> Self:
        """Add a custom layer to the model specification.

        Keras loads models with custom layers (or other custom objects) when it is
        given their classes (``load_model(path, custom_objects={'CustomLayer':
        CustomLayer})``). DLHub records the import path of each class, so the
        class must live in a module the servable can import: a library listed
        with ``add_requirement``, or a file added with ``add_file``.

        Args:
            name: Name of the custom object, as Keras knows it.
            custom_object: Class (or function) of the custom object.

        Returns:
            self

        Raises:
            InvalidMetadata: The object has no import path another program could use.
        """
        field = "servable.options.custom_objects"
        if not isinstance(name, str) or not name:
            raise InvalidMetadata(
                "the name of a custom object must be a non-empty string", field=field
            )
        if not (inspect.isclass(custom_object) or inspect.isfunction(custom_object)):
            raise InvalidMetadata(
                f"custom object {name!r} must be a class (or function), not {custom_object!r}",
                field=field,
            )
        module, qualname = custom_object.__module__, custom_object.__qualname__
        if module == "__main__" or "<locals>" in qualname:
            raise InvalidMetadata(
                f"{qualname} is defined in {'a function' if '<locals>' in qualname else 'the running script'}, "
                "so the servable could not import it: move it to a module and add that file "
                "with add_file",
                field=field,
            )
        options = dict(self.servable.options or {})
        options["custom_objects"] = {
            **options.get("custom_objects", {}),
            name: f"{module}.{qualname}",
        }
        self.servable.options = options
        return self

    def _add_framework_requirements(self, keras: Any, *paths: str | None) -> None:
        distribution = "tf-keras" if keras.__name__.startswith("tf_keras") else "keras"
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            version = str(keras.__version__)
        self.add_requirement(distribution, version)
        backend = str(keras.backend.backend())
        if backend == "tensorflow":
            from dlhub_sdk.models.servables.tensorflow import tensorflow_distribution

            self.add_requirement(*tensorflow_distribution())
        elif backend in ("torch", "jax"):
            self.add_requirement(backend, "detect")
        if any(p is not None and p.lower().endswith(_HDF5) for p in paths):
            self.add_requirement("h5py", "detect")


def _keras(force_tf_keras: bool) -> Any:
    """The Keras module to read the model with."""
    if not force_tf_keras:
        try:
            import keras

            return keras
        except ImportError:
            pass  # TensorFlow's own copy may still be there
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise ImportError(
            "describing a Keras model needs Keras: pip install keras (or tensorflow)"
        ) from exc
    return tf.keras


def _names(output_names: Any) -> list[Any]:
    if isinstance(output_names, str) or not isinstance(output_names, (list, tuple)):
        raise InvalidMetadata(
            "output_names must be a list of class names (one list per output layer if several)",
            field="servable.methods.run.method_details.classes",
        )
    return [list(n) if isinstance(n, (list, tuple)) else str(n) for n in output_names]


def _load(keras: Any, model_path: str, arch_path: str | None, custom_objects: Any) -> Any:
    """Load the model (or architecture and weights), with errors that say what to do."""
    try:
        if arch_path is None:
            if not model_path.lower().endswith(_MODEL_FILES):
                raise InvalidMetadata(
                    f"{model_path!r} is not a Keras model file (.keras or .h5); give the "
                    "architecture with arch_path if it holds only weights",
                    field="dlhub.files.model",
                )
            return keras.models.load_model(model_path, custom_objects=custom_objects, compile=False)
        lowered = arch_path.lower()
        if lowered.endswith(".json"):
            with open(arch_path) as fp:
                network = keras.models.model_from_json(fp.read(), custom_objects=custom_objects)
        elif lowered.endswith(_MODEL_FILES):
            network = keras.models.load_model(
                arch_path, custom_objects=custom_objects, compile=False
            )
        elif lowered.endswith((".yml", ".yaml")):
            raise InvalidMetadata(
                "Keras no longer reads YAML architectures: save the architecture with "
                "model.to_json() and give that file",
                field="dlhub.files.arch",
            )
        else:
            raise InvalidMetadata(
                f"unknown architecture file type {arch_path!r}: use JSON (model.to_json()) "
                "or a model file (.keras, .h5)",
                field="dlhub.files.arch",
            )
        network.load_weights(model_path)
        return network
    except InvalidMetadata:
        raise
    except Exception as exc:
        message = str(exc)
        hint = ""
        if any(s in message for s in ("Unknown layer", "Could not locate", "custom_objects")):
            hint = (
                ". The model uses custom objects: pass custom_objects={'Name': Class} "
                "to create_model"
            )
        raise InvalidMetadata(
            f"Keras cannot load {arch_path or model_path!r}: {message}{hint}",
            field="dlhub.files.model",
        ) from exc
