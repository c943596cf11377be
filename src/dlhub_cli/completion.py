"""``dlhub completion SHELL``: the script that teaches a shell to complete ``dlhub``."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["SHELLS", "completion"]

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
        eval "$(dlhub completion bash)"                       # this shell, in ~/.bashrc
        dlhub completion fish > ~/.config/fish/completions/dlhub.fish
    The same as click's  eval "$(_DLHUB_COMPLETE=bash_source dlhub)".
    """
    context = click.get_current_context()
    root = context.find_root()
    complete = get_completion_class(shell)
    if complete is None:  # pragma: no cover - the choice only offers known shells
        raise click.UsageError(f"no completion for {shell}")
    script = complete(root.command, {}, "dlhub", "_DLHUB_COMPLETE").source()
    click.echo(script)
