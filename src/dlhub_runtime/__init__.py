"""What runs inside each servable's environment, and the wire codec everyone shares.

``dlhub_runtime`` depends only on the standard library and msgpack (numpy when
arrays travel; each shim imports its framework when a servable of its type loads),
because it is installed alone into every servable's environment.

- :mod:`dlhub_runtime.codec`: ``encode``/``decode`` (msgpack with typed
  extensions), ``FileRef``, and the JSON convention for curl users.
- :mod:`dlhub_runtime.shims`: one shim per servable type; ``load_servable``.
- :mod:`dlhub_runtime.protocol`: frames and messages between a worker and its client.
- :mod:`dlhub_runtime.worker`: the worker process (``python -m dlhub_runtime.worker``).
- :mod:`dlhub_runtime.process`: ``WorkerProcess``, the client that starts and drives a worker.
"""

from __future__ import annotations

from dlhub_runtime.codec import FileRef, decode, encode, from_json, to_json_compatible
from dlhub_runtime.errors import (
    CodecError,
    MethodNotFound,
    ProtocolError,
    RuntimeFailure,
    ServableError,
    ServableLoadError,
    WorkerCrashed,
    WorkerTimeout,
)
from dlhub_runtime.process import WorkerProcess, runtime_path
from dlhub_runtime.protocol import Reply
from dlhub_runtime.shims import load_servable

__all__ = [
    "CodecError",
    "FileRef",
    "MethodNotFound",
    "ProtocolError",
    "Reply",
    "RuntimeFailure",
    "ServableError",
    "ServableLoadError",
    "WorkerCrashed",
    "WorkerProcess",
    "WorkerTimeout",
    "decode",
    "encode",
    "from_json",
    "load_servable",
    "runtime_path",
    "to_json_compatible",
]
