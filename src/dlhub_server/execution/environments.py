"""Python environments for servables, built with uv and shared by identical requirement sets.

Each servable version runs in an environment made from its requirements. The
environment's key is a hash of the normalised requirement set, the Python
version and the runtime's version, so servables that need the same packages
share one folder. Building one is ``uv venv`` + ``uv pip install`` (seconds with
uv's cache); ``dlhub_runtime`` is copied into its site-packages, so every worker
can speak the wire protocol without the SDK or the server installed.

The ``shared`` mode reuses the hub's own interpreter: no isolation, for
development and tests only.
"""

from __future__ import annotations

import configparser
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Environment",
    "EnvironmentBuildError",
    "EnvironmentBuilder",
    "PackageSources",
    "environment_key",
]

#: Packages every servable environment gets besides its own requirements (the runtime's needs).
RUNTIME_REQUIREMENTS = ("msgpack>=1.0",)

_READY = ".dlhub-environment.json"


class EnvironmentBuildError(RuntimeError):
    """The environment could not be built; the message holds the resolver's output."""


@dataclass(frozen=True)
class PackageSources:
    """Where uv takes packages from (uv does not read pip's configuration, so we pass it on)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    offline: bool = False

    def uv_arguments(self) -> list[str]:
        """Command-line options for ``uv pip install``."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.offline:
            args.append("--offline")
        return args

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PackageSources:
        """Sources from ``DLHUB_*`` settings, else from pip's variables and configuration files.

        A site that sets nothing inherits what pip uses on the same machine: on
        machines whose pip points at a local wheelhouse (e.g. a CPU build of torch),
        uv then uses it too instead of downloading another build.
        """
        env = dict(os.environ if environ is None else environ)
        pip_config = _read_pip_config(env)

        def pick(dlhub: str, pip_env: str, pip_key: str) -> list[str]:
            value = env.get(dlhub) or env.get(pip_env) or pip_config.get(pip_key, "")
            return value.split()

        index = pick("DLHUB_INDEX_URL", "PIP_INDEX_URL", "index-url")
        return cls(
            index_url=index[0] if index else None,
            extra_index_urls=tuple(
                pick("DLHUB_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL", "extra-index-url")
            ),
            find_links=tuple(pick("DLHUB_FIND_LINKS", "PIP_FIND_LINKS", "find-links")),
            offline=env.get("DLHUB_UV_OFFLINE", "").lower() in ("1", "true", "yes"),
        )


def _read_pip_config(env: Mapping[str, str]) -> dict[str, str]:
    """The [global] section of pip's configuration files, later files winning (as pip does)."""
    home = Path(env.get("HOME", str(Path.home())))
    candidates = [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")]
    candidates += [home / ".pip" / "pip.conf", home / ".config" / "pip" / "pip.conf"]
    if env.get("PIP_CONFIG_FILE"):
        candidates.append(Path(env["PIP_CONFIG_FILE"]))
    merged: dict[str, str] = {}
    for path in candidates:
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                merged.update(
                    {
                        k: v
                        for k, v in parser.items(section)
                        if k in ("index-url", "extra-index-url", "find-links")
                    }
                )
    return merged


def _normalise(requirement: str) -> str:
    name, _, rest = requirement.strip().partition(";")
    return re.sub(r"\s+", "", name).lower() + (f";{rest.strip()}" if rest else "")


def _runtime_version() -> str:
    import dlhub_runtime

    return str(getattr(dlhub_runtime, "__version__", "0"))


def environment_key(requirements: Iterable[str], python_version: str | None = None) -> str:
    """The identity of an environment: requirement set + Python version + runtime version."""
    python_version = python_version or ".".join(map(str, sys.version_info[:2]))
    payload = json.dumps(
        {
            "requirements": sorted({_normalise(r) for r in requirements if r.strip()}),
            "python": python_version,
            "runtime": _runtime_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


@dataclass
class Environment:
    """A built environment: the interpreter that runs the servable and what was installed."""

    key: str
    python: str
    path: Path | None
    resolved: dict[str, str] = field(default_factory=dict)
    isolated: bool = True
    build_seconds: float = 0.0

    def describe(self) -> dict[str, object]:
        """What the hub records on the servable version."""
        return {
            "key": self.key,
            "isolated": self.isolated,
            "python": ".".join(map(str, sys.version_info[:3])),
            "packages": dict(sorted(self.resolved.items())),
        }


Log = Callable[[str], None]


def _no_log(line: str) -> None:
    pass


class EnvironmentBuilder:
    """Build (or reuse) the environment for a requirement set.

    Args:
        root: Folder holding one sub-folder per environment key.
        mode: ``"isolated"`` (default: a uv environment per requirement set) or
            ``"shared"`` (the hub's own interpreter; development only).
        sources: Where packages come from; default from settings and pip's configuration.
        uv: The uv executable (default: the one installed beside the hub).
        timeout: Seconds a build may take.
    """

    def __init__(
        self,
        root: Path,
        mode: str = "isolated",
        sources: PackageSources | None = None,
        uv: str | None = None,
        timeout: float = 1800.0,
    ) -> None:
        if mode not in ("isolated", "shared"):
            raise ValueError(f"unknown environment mode {mode!r}: use 'isolated' or 'shared'")
        self.root = Path(root)
        self.mode = mode
        self.sources = sources if sources is not None else PackageSources.from_environment()
        self.uv = uv or _find_uv()
        self.timeout = timeout

    def build(self, requirements: Iterable[str], log: Log = _no_log) -> Environment:
        """The environment for ``requirements``, building it if no identical one exists.

        Raises:
            EnvironmentBuildError: uv failed; the message carries its output.
        """
        requirements = [r for r in requirements if r.strip()]
        key = environment_key(requirements)
        if self.mode == "shared":
            log("using the hub's own interpreter (shared mode: no isolation)")
            return Environment(
                key=key,
                python=sys.executable,
                path=None,
                resolved=_installed(requirements),
                isolated=False,
            )
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / key
        with open(self.root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build per key; others wait and then reuse it
            ready = target / _READY
            if ready.is_file():
                log(f"reusing environment {key}")
                record = json.loads(ready.read_text())
                return Environment(
                    key=key,
                    python=str(target / "bin" / "python"),
                    path=target,
                    resolved=record["resolved"],
                )
            return self._create(key, target, requirements, log)

    def _create(self, key: str, target: Path, requirements: list[str], log: Log) -> Environment:
        started = time.monotonic()
        if target.exists():
            shutil.rmtree(target)  # a build that died half-way
        try:
            self._run([self.uv, "venv", "--quiet", "--python", sys.executable, str(target)], log)
            python = str(target / "bin" / "python")
            wanted = [*RUNTIME_REQUIREMENTS, *requirements]
            log("installing: " + " ".join(wanted))
            self._run(
                [
                    self.uv,
                    "pip",
                    "install",
                    "--python",
                    python,
                    *self.sources.uv_arguments(),
                    *wanted,
                ],
                log,
            )
            _copy_runtime(python)
            resolved = _freeze(self.uv, python)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        seconds = time.monotonic() - started
        (target / _READY).write_text(
            json.dumps({"requirements": requirements, "resolved": resolved, "seconds": seconds})
        )
        log(f"environment {key} ready in {seconds:.1f} s ({len(resolved)} packages)")
        return Environment(
            key=key, python=python, path=target, resolved=resolved, build_seconds=seconds
        )

    def _run(self, command: list[str], log: Log) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=self.timeout, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise EnvironmentBuildError(
                f"building the environment took over {self.timeout:.0f} s"
            ) from exc
        for line in (done.stdout + done.stderr).splitlines():
            log(line)
        if done.returncode != 0:
            raise EnvironmentBuildError(
                done.stderr.strip() or done.stdout.strip() or f"{command[1]} failed"
            )


def _find_uv() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise EnvironmentBuildError("uv is not installed: pip install uv") from None
        return found


def _copy_runtime(python: str) -> None:
    """Put dlhub_runtime into the environment's site-packages."""
    import dlhub_runtime

    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = Path(dlhub_runtime.__file__).parent
    shutil.copytree(
        source, Path(site) / "dlhub_runtime", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


def _freeze(uv: str, python: str) -> dict[str, str]:
    done = subprocess.run(
        [uv, "pip", "freeze", "--python", python], capture_output=True, text=True, check=True
    )
    resolved = {}
    for line in done.stdout.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            resolved[name.strip()] = version.strip()
    return resolved


def _installed(requirements: Iterable[str]) -> dict[str, str]:
    """Versions of the requested packages in the hub's own interpreter."""
    import importlib.metadata

    found = {}
    for requirement in requirements:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found
