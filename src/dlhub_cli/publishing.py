"""``dlhub publish``: send a servable to the hub and follow its publication."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._errors import PublicationFailed
from dlhub_cli._output import json_option, print_json, print_task_id
from dlhub_cli.tasks import BUILD_STEP, follow_task, only_build_pending, task_state
from dlhub_sdk.exceptions import InvalidMetadata

__all__ = ["load_description", "publish"]


def _resolve(relative: Any, folder: Path, missing: list[str]) -> str:
    path = Path(str(relative)).expanduser()
    if not path.is_absolute():
        path = folder / path
    if not path.is_file():
        missing.append(str(relative))
    return str(path.resolve())


def load_description(folder: Path) -> Any:
    """The model described by ``dlhub.json`` in ``folder``, its file paths taken from there.

    Raises:
        FileNotFoundError: There is no dlhub.json in the folder.
        InvalidMetadata: It is not valid JSON, not a DLHub document, or lists missing files.
    """
    from dlhub_sdk.utils import unserialize_object

    description = folder / "dlhub.json"
    if not description.is_file():
        raise FileNotFoundError(f"no dlhub.json in {folder.resolve()}")
    try:
        document = json.loads(description.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidMetadata(f"{description} is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidMetadata(f"{description} is not text: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("dlhub"), dict):
        raise InvalidMetadata(f"{description} does not hold a DLHub document", field="dlhub")
    files = document["dlhub"].get("files") or {}
    if not isinstance(files, dict):
        raise InvalidMetadata(
            "must be an object of named files and an 'other' list", field="dlhub.files"
        )
    missing: list[str] = []
    resolved: dict[str, Any] = {}
    for role, value in files.items():
        if isinstance(value, list):
            resolved[role] = [_resolve(v, folder, missing) for v in value]
        else:
            resolved[role] = _resolve(value, folder, missing)
    if missing:
        raise InvalidMetadata(
            f"files listed in {description} do not exist: {', '.join(missing)} "
            "(paths are relative to the folder of dlhub.json)",
            field="dlhub.files",
        )
    document["dlhub"]["files"] = resolved
    return unserialize_object(document)


def _announce(task: dict[str, Any], task_id: str) -> None:
    """The last line of a followed publication: what happened, and what is left."""
    outcome = task.get("result") or {}
    what = (
        f"{outcome['name']} version {outcome['version']}"
        if {"name", "version"} <= outcome.keys()
        else "the servable"
    )
    state = task_state(task)
    if state == "succeeded":
        click.echo(f"Published {what}; its environment is ready")
    elif state == "failed":
        steps: list[dict[str, Any]] = task.get("steps") or []
        failed = next((s for s in steps if s.get("state") == "failed"), {})
        log = [line for line in str(failed.get("log") or "").splitlines() if line.strip()]
        reason = f": {log[-1].strip()}" if log else ""
        raise PublicationFailed(
            f"publication task {task_id} failed at step {failed.get('name', '?')!r}{reason}"
        )
    elif only_build_pending(task):
        click.echo(
            f"Published {what}; the {BUILD_STEP} step has not started yet (the hub builds it "
            f"when an executor is free; follow it with `dlhub status --task {task_id}`)"
        )
    else:
        raise TimeoutError(f"publication task {task_id} is still {state} after the --timeout")


@click.command()
@click.option("--local", "local", is_flag=True, help="Upload the servable in --dir (dlhub.json).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder holding dlhub.json (with --local); file paths in it are relative to it.",
)
@click.option("--repository", metavar="URL", help="Publish a git repository (any URL git clones).")
@click.option("--path", "repo_path", metavar="P", help="Folder of dlhub.json in the repository.")
@click.option("--globus", is_flag=True, hidden=True)
@click.option("--endpoint", hidden=True)
@click.option("--no-wait", is_flag=True, help="Print only the task id, and return at once.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    help="Seconds to follow the publication before giving up following it.",
)
@json_option
@pass_cli
def publish(
    cli: CliContext,
    local: bool,
    directory: Path,
    repository: str | None,
    repo_path: str | None,
    globus: bool,
    endpoint: str | None,
    no_wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Publish a servable (a new version if you published the name before).

    Prints the publication's task id, then its steps live until the servable is
    published (--no-wait returns at once).

    \b
    Examples:
        dlhub publish --local                     # dlhub.json in this folder
        dlhub publish --local --dir path/to/servable
        dlhub publish --repository https://github.com/me/my-servable --path model
    """
    if globus or endpoint:
        # The manual's third route needs Globus Transfer, which a self-hosted hub does not have.
        raise click.UsageError(
            "publishing through Globus is not available on a self-hosted hub: use --local "
            "(an upload) or --repository URL"
        )
    if local == bool(repository):
        raise click.UsageError("give either --local or --repository URL")
    if repo_path and not repository:
        raise click.UsageError("--path goes with --repository")
    client = cli.client()
    if local:
        task_id = client.publish_servable(load_description(directory))
    else:
        task_id = client.publish_repository(str(repository), repo_path)
    if no_wait:
        print_task_id(task_id, as_json, f"Follow it with `dlhub status --task {task_id}`")
        return
    if not as_json:
        click.echo(f"task {task_id}")
    task = follow_task(lambda: client.get_task_status(task_id), timeout or None, show=not as_json)
    if as_json:
        print_json(task)
        if task_state(task) == "succeeded" or only_build_pending(task):
            return
    _announce(task, task_id)
