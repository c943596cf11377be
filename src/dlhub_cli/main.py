"""The ``dlhub`` command: a click group; each command lives in a module named for what it does.

==================  ===============================================================
module              commands
==================  ===============================================================
init                ``init``
account             ``login``, ``logout``, ``whoami``
publishing          ``publish``
discovery           ``servables``, ``search``, ``describe``, ``methods``, ``versions``
editing             ``edit``, ``delete``
running             ``run``
tasks               ``status``, ``result``
serve, admin        ``serve``; ``users ...``, ``groups ...`` (the hub's administrator)
completion          ``completion``
==================  ===============================================================
"""

from __future__ import annotations

import click

from dlhub_cli._context import CliContext
from dlhub_cli._errors import friendly_errors
from dlhub_cli.account import login, logout, whoami
from dlhub_cli.admin import groups, users
from dlhub_cli.completion import completion
from dlhub_cli.discovery import describe, methods, search, servables, versions
from dlhub_cli.editing import delete, edit
from dlhub_cli.init import init
from dlhub_cli.publishing import publish
from dlhub_cli.running import run
from dlhub_cli.serve import serve
from dlhub_cli.tasks import result, status

__all__ = ["main"]


class _Commands(click.Group):
    """A group whose commands (and their sub-commands) print errors as one line."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _make_friendly(cmd)
        super().add_command(cmd, name)


def _make_friendly(command: click.Command) -> None:
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _make_friendly(sub)
    if command.callback is not None:
        command.callback = friendly_errors(command.callback)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    envvar="DLHUB_URL",
    metavar="URL",
    help="The hub's URL (default: DLHUB_URL, else http://127.0.0.1:5000).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="dlhub", prog_name="dlhub")
@click.pass_context
def main(context: click.Context, url: str | None, debug: bool) -> None:
    """DLHub: describe, publish, find and run scientific models on a hub you run yourself.

    \b
    A first servable, from an empty folder:
        dlhub serve &                   # a hub on http://127.0.0.1:5000
        dlhub login --register
        dlhub init --name my_servable   # writes describe_servable.py, app.py, dlhub.json
        dlhub publish --local
        dlhub run --servable YOU/my_servable --input '2'
    Shell completion: eval "$(dlhub completion bash)"
    """
    cli = context.ensure_object(CliContext)
    if url:
        cli.url = url
    cli.debug = cli.debug or debug
    context.call_on_close(cli.close)


for _command in (
    init,
    login,
    logout,
    whoami,
    publish,
    servables,
    search,
    describe,
    methods,
    versions,
    edit,
    delete,
    run,
    status,
    result,
    serve,
    users,
    groups,
    completion,
):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
