"""Hub settings for commands: the ``DLHUB_*`` variables, with ``--data-dir`` on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["data_dir_option", "hub_settings"]

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The hub's data folder (default: DLHUB_DATA_DIR, else ~/.dlhub/server).",
)


def hub_settings(data_dir: Path | None) -> Any:
    """The hub's settings, or a usage error naming the bad variable."""
    from dlhub_server.settings import Settings, SettingsError

    try:
        return Settings.from_env(data_dir=data_dir)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
