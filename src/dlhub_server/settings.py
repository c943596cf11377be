"""The hub's settings: one declarative table, read from ``DLHUB_*`` environment variables.

Every setting has a name, a default that makes a single machine work with
nothing installed but the package, and a help text. The table drives parsing and
validation (:meth:`Settings.from_env`), the ``dlhub serve`` options and the
reference page ``docs/settings.md`` (regenerate it with
``python -m dlhub_server.settings docs/settings.md``; a test fails when it is stale).

Defaults may name another setting in braces (``{data_dir}``): it is filled in
after that setting is read, so moving the data folder moves everything in it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLIENT_SETTINGS",
    "SETTINGS",
    "Setting",
    "Settings",
    "SettingsError",
    "settings_markdown",
]


class SettingsError(ValueError):
    """A setting has a value the hub cannot use; the message names the variable."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    Attributes:
        name: Environment variable (``DLHUB_...``).
        field: Attribute of :class:`Settings` that holds the parsed value.
        default: Default text; ``{field}`` placeholders are filled from other settings.
        help: What it does, for the docs and ``--help``.
        parse: Turns the text into the value (raising ``ValueError`` when it cannot).
        choices: Allowed values, when the setting is one of a few words.
    """

    name: str
    field: str
    default: str
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()


#: Every setting of the hub, in the order of the docs.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DLHUB_DATA_DIR",
        "data_dir",
        "~/.dlhub/server",
        "Folder holding the hub's database and stored files (when the two settings below keep "
        "their defaults).",
        _path,
    ),
    Setting(
        "DLHUB_DATABASE_URL",
        "database_url",
        "sqlite:///{data_dir}/hub.sqlite3",
        "SQLAlchemy URL of the registry database: SQLite by default, "
        "`postgresql+psycopg://user:password@host/db` at scale. Its schema is migrated at startup.",
    ),
    Setting(
        "DLHUB_STORAGE_URL",
        "storage_url",
        "{data_dir}/blobs",
        "Where published files are stored, content-addressed by SHA-256: a folder (path or "
        "`file://` URL). `s3://bucket/prefix` is reserved for an S3 backend.",
    ),
    Setting(
        "DLHUB_EXECUTOR",
        "executor",
        "local",
        "Where servables run: `local` (worker processes on this machine) or `ray` (a Ray cluster).",
        choices=("local", "ray"),
    ),
    Setting(
        "DLHUB_WORKER_USER",
        "worker_user",
        "nobody",
        "Account the worker processes run as when the hub runs as root, so servable code cannot "
        "read the hub's files.",
    ),
    Setting(
        "DLHUB_ENVIRONMENTS",
        "environments",
        "isolated",
        "`isolated`: each servable runs in a uv environment built from its requirements "
        "(identical requirement sets share one). `shared`: servables run in the hub's own "
        "interpreter (no isolation; for development and tests).",
        choices=("isolated", "shared"),
    ),
    Setting(
        "DLHUB_WORK_DIR",
        "work_dir",
        "{data_dir}/work",
        "Folder for servable environments and the workers' folders (workers see only their own part).",
        _path,
    ),
    Setting(
        "DLHUB_MAX_WORKERS",
        "max_workers",
        "8",
        "Most worker processes the hub keeps at once; the least recently used idle one makes room.",
        _positive_int,
    ),
    Setting(
        "DLHUB_WORKERS_PER_SERVABLE",
        "workers_per_servable",
        "2",
        "Most workers one servable version gets under load (more callers wait for a free one).",
        _positive_int,
    ),
    Setting(
        "DLHUB_WORKER_IDLE_SECONDS",
        "worker_idle_seconds",
        "600",
        "A worker idle this long is stopped (it starts again on the next call).",
        _positive_float,
    ),
    Setting(
        "DLHUB_WORKER_MEMORY_MB",
        "worker_memory_mb",
        "4096",
        "Address-space limit of one worker, in MiB; a servable that needs more fails with a "
        "memory error and its worker is replaced.",
        _positive_int,
    ),
    Setting(
        "DLHUB_WORKERS_MEMORY_MB",
        "workers_memory_mb",
        "16384",
        "Budget for the resident memory of all idle workers, in MiB; above it the least "
        "recently used are stopped.",
        _positive_int,
    ),
    Setting(
        "DLHUB_RUN_TIMEOUT",
        "run_timeout",
        "300",
        "Longest a call may run, in seconds (a caller may ask for less); past it the worker is "
        "stopped and the call fails.",
        _positive_float,
    ),
    Setting(
        "DLHUB_MAX_INPUT_BYTES",
        "max_input_bytes",
        str(256 * 1024**2),
        "Largest run request (inputs and files) the hub accepts, in bytes (413 above it).",
        _positive_int,
    ),
    Setting(
        "DLHUB_RUNS_PER_SECOND",
        "runs_per_second",
        "100",
        "Calls per second one user may make (bursts up to twice that); more get 429.",
        _positive_float,
    ),
    Setting(
        "DLHUB_WARM_ON_PUBLISH",
        "warm_on_publish",
        "true",
        "Start a worker right after a servable's environment is built, so its first call is fast.",
        _flag,
    ),
    Setting(
        "DLHUB_SIGNUP",
        "signup",
        "open",
        "`open`: anyone can create an account through the API (`DLHubClient.login(..., "
        "register=True)`). `closed`: accounts are made on the hub with `dlhub users add NAME`.",
        choices=("open", "closed"),
    ),
    Setting(
        "DLHUB_TOKEN_TTL_DAYS",
        "token_ttl_days",
        "30",
        "Days a login token stays valid; after that the client must log in again.",
        _positive_float,
    ),
    Setting(
        "DLHUB_MAX_UPLOAD_BYTES",
        "max_upload_bytes",
        str(2 * 1024**3),
        "Largest publication request (document + zip) the hub accepts, in bytes (413 above it).",
        _positive_int,
    ),
    Setting(
        "DLHUB_MAX_UNPACKED_BYTES",
        "max_unpacked_bytes",
        str(8 * 1024**3),
        "Largest total size of the files inside one published zip, in bytes (413 above it).",
        _positive_int,
    ),
    Setting(
        "DLHUB_MAX_ZIP_ENTRIES",
        "max_zip_entries",
        "10000",
        "Most files one published zip may hold (413 above it).",
        _positive_int,
    ),
    Setting(
        "DLHUB_INDEX_URL",
        "index_url",
        "",
        "Package index the environment builder installs requirements from. Empty: pip's own "
        "setting (`PIP_INDEX_URL` or pip.conf), else PyPI.",
    ),
    Setting(
        "DLHUB_EXTRA_INDEX_URL",
        "extra_index_url",
        "",
        "Extra package indexes for environment builds (space-separated). Empty: pip's "
        "`PIP_EXTRA_INDEX_URL` or pip.conf.",
    ),
    Setting(
        "DLHUB_FIND_LINKS",
        "find_links",
        "",
        "Folders or pages of wheels for environment builds (a local wheelhouse; space-separated). "
        "Empty: pip's `PIP_FIND_LINKS` or pip.conf.",
    ),
    Setting(
        "DLHUB_UV_OFFLINE",
        "uv_offline",
        "false",
        "Build environments from uv's cache and the find-links only, without any network.",
        _flag,
    ),
)

#: Variables read by the client side (``DLHubClient`` and the ``dlhub`` command), for the docs.
CLIENT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DLHUB_URL",
        "url",
        "http://127.0.0.1:5000",
        "URL of the hub the client talks to.",
    ),
    Setting(
        "DLHUB_TOKEN",
        "token",
        "",
        "Bearer token to use instead of the one `dlhub login` stored in "
        "`~/.dlhub/credentials/DLHub_Client_tokens.json`.",
    ),
    Setting(
        "DLHUB_PYPI_URL",
        "pypi_url",
        "https://pypi.org/pypi",
        "JSON API of the package index `add_requirement(name, 'latest')` asks for the newest "
        "release.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The hub's parsed settings (one attribute per row of :data:`SETTINGS`).

    Build it with :meth:`from_env`, which applies defaults and validation; keyword
    overrides take precedence over the environment (``Settings.from_env(data_dir=tmp)``).
    """

    data_dir: Path
    database_url: str
    storage_url: str
    executor: str
    worker_user: str
    environments: str
    work_dir: Path
    max_workers: int
    workers_per_servable: int
    worker_idle_seconds: float
    worker_memory_mb: int
    workers_memory_mb: int
    run_timeout: float
    max_input_bytes: int
    runs_per_second: float
    warm_on_publish: bool
    signup: str
    token_ttl_days: float
    max_upload_bytes: int
    max_unpacked_bytes: int
    max_zip_entries: int
    index_url: str
    extra_index_url: str
    find_links: str
    uv_offline: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from ``environ`` (default: ``os.environ``), then apply overrides.

        Args:
            environ: Where ``DLHUB_*`` variables are read from.
            **overrides: Values by field name (already parsed, or text to parse).

        Raises:
            SettingsError: A value cannot be parsed or is not one of the allowed choices.
        """
        env = os.environ if environ is None else environ
        known = {s.field for s in SETTINGS}
        unknown = set(overrides) - known
        if unknown:
            raise SettingsError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
        texts: dict[str, Any] = {}
        for setting in SETTINGS:
            if overrides.get(setting.field) is not None:
                texts[setting.field] = overrides[setting.field]
            elif env.get(setting.name):
                texts[setting.field] = env[setting.name]
        values: dict[str, Any] = {}
        # Settings whose defaults refer to others come after them in the table.
        for setting in SETTINGS:
            given = texts.get(setting.field)
            if given is None:
                text = setting.default.format(**{k: str(v) for k, v in values.items()})
            elif isinstance(given, str):
                text = given
            else:
                values[setting.field] = given
                continue
            values[setting.field] = _parse(setting, text)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (no re-parsing)."""
        return dataclasses.replace(self, **changes)


def _parse(setting: Setting, text: str) -> Any:
    if setting.choices and text not in setting.choices:
        raise SettingsError(
            f"{setting.name}={text!r} is not valid: use one of {', '.join(setting.choices)}"
        )
    try:
        return setting.parse(text)
    except ValueError as exc:
        raise SettingsError(f"{setting.name}={text!r} is not valid: {exc}") from None


def _table(rows: tuple[Setting, ...]) -> list[str]:
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for s in rows:
        default = f"`{s.default}`" if s.default else "(empty)"
        choices = f" One of: {', '.join(f'`{c}`' for c in s.choices)}." if s.choices else ""
        lines.append(f"| `{s.name}` | {default} | {s.help}{choices} |")
    return lines


def settings_markdown() -> str:
    """The text of ``docs/settings.md``, generated from the tables."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated by `python -m dlhub_server.settings docs/settings.md`; do not edit. -->",
        "",
        "Every setting is an environment variable. The defaults run a complete hub on one",
        "machine; `{data_dir}` stands for the value of `DLHUB_DATA_DIR`.",
        "",
        "## Hub (`dlhub serve`)",
        "",
        *_table(SETTINGS),
        "",
        "## Client (`DLHubClient`, `dlhub` commands)",
        "",
        *_table(CLIENT_SETTINGS),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        target.write_text(settings_markdown())
        print(f"wrote {target}")
    else:
        sys.stdout.write(settings_markdown())
