"""The ``dlhub`` command: a click group; each command lives in its own module."""

from __future__ import annotations

import click

from dlhub_cli.admin import groups, users
from dlhub_cli.serve import serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlhub", prog_name="dlhub")
def main() -> None:
    """DLHub: describe, publish, find and run scientific models on a hub you run yourself."""


main.add_command(serve)
main.add_command(users)
main.add_command(groups)


if __name__ == "__main__":  # pragma: no cover
    main()
