"""``dlhub init``: write a describe_servable.py to fill in, and run it to make dlhub.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from dlhub_cli._errors import ScriptExists, ScriptFailed

__all__ = ["init"]

_APP = '''"""The servable's code. TODO: replace this example with your own function."""


def run(x: float) -> float:
    """An example servable: returns its input doubled."""
    return 2 * x
'''

_TEMPLATE = '''"""Describe the servable {name!r} for DLHub.

Run ``python {filename}`` to (re)write dlhub.json, then ``dlhub publish --local``.
"""

from dlhub_sdk.models.servables.python import PythonStaticMethodModel

# TODO: choose the servable type that matches your model (chapter 4 of the DLHub manual):
#   PythonStaticMethodModel, PythonClassMethodModel  (dlhub_sdk.models.servables.python)
#   KerasModel       (dlhub_sdk.models.servables.keras)
#   TorchModel       (dlhub_sdk.models.servables.pytorch)
#   TensorFlowModel  (dlhub_sdk.models.servables.tensorflow)
#   ScikitLearnModel (dlhub_sdk.models.servables.sklearn)
# This one serves the function ``run`` of app.py; its inputs and outputs come from its type hints.
model = PythonStaticMethodModel.create_model("app", "run", auto_inspect=True)
model.add_file("app.py")

# TODO: write a descriptive title
model.set_title({title!r})
model.set_name({name!r})
model.set_creators({authors!r}, {affiliations!r})

# TODO: write a short abstract: what the servable does, what it was trained on
model.set_abstract("TODO: describe what this servable does.")

# TODO: list the Python libraries the servable needs, for example:
#   model.add_requirement("numpy", "detect")     # the version installed here
#   model.add_requirement("scikit-learn", "1.5.0")
# or read them from repo2docker files: model.parse_repo2docker_configuration()

# TODO: point to papers or code that describe it, for example:
#   model.add_related_resource("10.1000/xyz123", "DOI", "IsDescribedBy")

model.save("dlhub.json")
print("wrote dlhub.json for", model.name)
'''


@click.command()
@click.option(
    "--name", required=True, help="Short name of the servable (letters, digits, '.', '_', '-')."
)
@click.option(
    "--author",
    "authors",
    multiple=True,
    nargs=2,
    metavar="'FAMILY, GIVEN' AFFILIATION",
    help="An author and their affiliation; repeat for several authors.",
)
@click.option("--title", default=None, help="Title of the servable (default: the name).")
@click.option(
    "--filename", default="describe_servable.py", show_default=True, help="Script to write."
)
@click.option("--force", is_flag=True, help="Overwrite an existing script.")
@click.option("--skip-run", is_flag=True, help="Only write the script; do not run it.")
def init(
    name: str,
    authors: tuple[tuple[str, str], ...],
    title: str | None,
    filename: str,
    force: bool,
    skip_run: bool,
) -> None:
    """Start describing a servable: write a describe script and run it to make dlhub.json.

    Writes the script (with TODO comments for the title, abstract, requirements
    and servable type) and, if there is none, an example app.py to replace with
    your code; then runs the script, which writes dlhub.json.

    \b
    Example:
        dlhub init --name my_model --author "Ward, Logan" "Argonne National Laboratory"
        python describe_servable.py   # again, after editing the TODOs
        dlhub publish --local
    """
    from dlhub_sdk.models import check_name

    check_name(name)
    script = Path(filename)
    if script.exists() and not force:
        raise ScriptExists(f"{script} already exists")
    names = [author for author, _ in authors] or ["TODO, Your Name"]
    affiliations = [[affiliation] for _, affiliation in authors] or [["TODO: your affiliation"]]
    script.write_text(
        _TEMPLATE.format(
            name=name,
            filename=filename,
            title=title or name,
            authors=names,
            affiliations=affiliations,
        )
    )
    click.echo(f"Wrote {script}: edit its TODOs to describe your servable")
    app = Path("app.py")
    if not app.exists():
        app.write_text(_APP)
        click.echo(f"Wrote {app}: an example function to replace with yours")
    if skip_run:
        click.echo(f"Run `python {script}` to write dlhub.json, then `dlhub publish --local`")
        return
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ScriptFailed(
            f"running {script} failed: {lines[-1].strip() if lines else done.returncode}"
        )
    click.echo(done.stdout.strip())
    click.echo("Next: `dlhub publish --local` (after the TODOs: run the script again)")
