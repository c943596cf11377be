"""PyTorch models: TorchScript (``torch.jit.save``) or a whole pickled module (``torch.save``).

The model is the document's ``model`` file, loaded on the CPU in eval mode (as
TorchScript when ``servable.options.torchscript`` says so, or, when the option is
absent, when the file is a TorchScript archive); calls
run under ``torch.no_grad()``. Inputs are cast to the dtypes the document declares
(``item_type`` of the ndarray input, or of each member of a tuple input):
``float`` is float32, ``integer`` int64, ``boolean`` bool, ``complex`` complex64;
the default is float32, as the manual says. Outputs come back as numpy arrays.
"""

from __future__ import annotations

import zipfile
from typing import Any

from dlhub_runtime.shims.base import Shim, input_block

__all__ = ["TorchShim", "torch_dtype"]

_DTYPES = {
    "float": "float32",
    "number": "float32",
    "integer": "int64",
    "boolean": "bool",
    "complex": "complex64",
}


def torch_dtype(item_type: Any) -> Any:
    """The torch dtype for an argument type's ``item_type`` (a block or a name).

    Raises:
        ValueError: The name is neither an argument type nor a torch dtype.
    """
    import torch

    name = item_type.get("type") if isinstance(item_type, dict) else item_type
    name = _DTYPES.get(name or "float", name)
    dtype = getattr(torch, str(name), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"no torch dtype for item_type {item_type!r}")
    return dtype


def _is_torchscript(path: str) -> bool:
    # TorchScript archives hold compiled code and constants; torch.save archives do not
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") for name in archive.namelist())


def _to_numpy(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, tuple):
        return tuple(_to_numpy(item) for item in value)
    if isinstance(value, list):
        return [_to_numpy(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_numpy(item) for key, item in value.items()}
    return value


class TorchShim(Shim):
    """Runs a torch module (``forward``, or ``method_details.method_name``)."""

    def load(self) -> None:
        import torch

        path = self.file("model")
        torchscript = self.options.get("torchscript")
        if torchscript is None:  # documents written before the option existed
            torchscript = _is_torchscript(path)
        if torchscript:
            model = torch.jit.load(path, map_location="cpu")
        else:
            # the servable's own file, inside its own worker: a whole module needs pickle
            model = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(model, torch.nn.Module) and not hasattr(model, "forward"):
            raise TypeError(
                f"the model file holds a {type(model).__name__}, not a module; save the whole "
                "model with torch.save(model, path) or TorchScript, not only its state_dict"
            )
        model.eval()
        self.model = model
        self.dtypes = {name: self._input_dtypes(name) for name in self.methods}

    def _input_dtypes(self, method: str) -> Any:
        block = input_block(self, method)
        if block.get("type") == "tuple":
            return [torch_dtype(member.get("item_type")) for member in block["element_types"]]
        return torch_dtype(block.get("item_type"))

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        import numpy
        import torch

        dtypes = self.dtypes[method]
        if isinstance(dtypes, list):
            if len(inputs) != len(dtypes):
                raise ValueError(f"this model takes {len(dtypes)} inputs, got {len(inputs)}")
            tensors = [
                torch.as_tensor(numpy.asarray(item)).to(dtype)
                for item, dtype in zip(inputs, dtypes)
            ]
        else:
            tensors = [torch.as_tensor(numpy.asarray(inputs)).to(dtypes)]
        method_name = self.details(method).get("method_name") or "__call__"
        function = self.model if method_name == "__call__" else getattr(self.model, method_name)
        with torch.no_grad():
            return _to_numpy(function(*tensors, **parameters))
