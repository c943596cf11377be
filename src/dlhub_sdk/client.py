"""The client of a DLHub hub: log in, publish, describe and list servables.

``DLHubClient`` methods map one to one onto the hub's REST routes (``/api/v1``).
Credentials come, in order, from the ``token`` argument, the ``DLHUB_TOKEN``
variable, or the file ``dlhub login`` writes
(``~/.dlhub/credentials/DLHub_Client_tokens.json``). With none of them, an
interactive terminal is asked for a user name and password; a script gets an
:class:`~dlhub_sdk.exceptions.AuthenticationError` saying to run ``dlhub login``.

Public servables can be listed and described without an account:
``DLHubClient(anonymous=True)`` never asks for credentials, and routes that need
an account then answer with ``AuthenticationError``.
"""

from __future__ import annotations

import getpass
import importlib
import json
import os
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import InvalidStateError
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from dlhub_sdk import _credentials
from dlhub_sdk._http import HubSession
from dlhub_sdk._running import FuncXCompatibility, RunningMixin
from dlhub_sdk._searching import SearchingMixin
from dlhub_sdk.exceptions import (
    AuthenticationError,
    BadRequest,
    InvalidMetadata,
    PayloadTooLarge,
    RepositoryError,
    TaskNotFinished,
)

if TYPE_CHECKING:
    from dlhub_sdk.utils.futures import DLHubFuture

__all__ = ["DEFAULT_URL", "DLHubClient", "parse_name"]

#: The hub a client talks to when neither ``base_url`` nor ``DLHUB_URL`` says otherwise.
DEFAULT_URL = "http://127.0.0.1:5000"

#: ``servable_type`` of :meth:`DLHubClient.easy_publish` -> (module, class) of its model.
EASY_PUBLISH_TYPES: dict[str, tuple[str, str]] = {
    "static_method": ("dlhub_sdk.models.servables.python", "PythonStaticMethodModel"),
    "class_method": ("dlhub_sdk.models.servables.python", "PythonClassMethodModel"),
    "keras": ("dlhub_sdk.models.servables.keras", "KerasModel"),
    "pytorch": ("dlhub_sdk.models.servables.pytorch", "TorchModel"),
    "tensorflow": ("dlhub_sdk.models.servables.tensorflow", "TensorFlowModel"),
    "sklearn": ("dlhub_sdk.models.servables.sklearn", "ScikitLearnModel"),
}

#: Uploads larger than this get a progress bar (on a terminal) and a size check first.
_LARGE_UPLOAD = 4 * 1024 * 1024


def parse_name(name: str) -> tuple[str, str, int | None]:
    """Split ``owner/name`` or ``owner/name:VERSION`` into its parts.

    Raises:
        BadRequest: The name does not have that form.
    """
    if not isinstance(name, str):
        raise BadRequest(f"a servable name is a string 'owner/name', not {type(name).__name__}")
    base, colon, version_text = name.partition(":")
    owner, slash, short = base.partition("/")
    version: int | None = None
    if colon:
        if not version_text.isdigit() or int(version_text) < 1:
            raise BadRequest(
                f"{name!r}: the version after ':' must be a number (owner/name:1, owner/name:2, ...)"
            )
        version = int(version_text)
    if not slash or not owner or not short or "/" in short:
        raise BadRequest(
            f"{name!r} is not a servable name: use 'owner/name' or 'owner/name:VERSION'"
        )
    return owner, short, version


class _ProgressFile:
    """A binary file that reports how much of it was read (for the upload progress bar)."""

    def __init__(self, file: IO[bytes], advance: Callable[[int], None]) -> None:
        self._file = file
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()


class DLHubClient(RunningMixin, SearchingMixin):
    """Main class for interacting with a DLHub hub.

    Holds helper operations for the common tasks: :meth:`publish_servable`,
    :meth:`describe_servable`, :meth:`get_servables`, ...

    Args:
        base_url: The hub's URL (default: ``DLHUB_URL``, else ``http://127.0.0.1:5000``).
        token: A bearer token (default: ``DLHUB_TOKEN``, else the stored login).
        http_timeout: Seconds to wait for the hub's answers (default: no limit).
        force_login: Ignore stored credentials and ask for the user name and password.
        anonymous: Use no credentials at all (public servables only); never asks.
        http_client: An ``httpx.Client`` to send requests with, e.g. a Starlette
            ``TestClient`` serving the hub in process.

    Raises:
        AuthenticationError: No credentials, and no terminal to ask for them.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        http_timeout: float | None = None,
        force_login: bool = False,
        *,
        anonymous: bool = False,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url = _base_url(base_url, http_client)
        self._hub = HubSession(self.base_url, http_timeout, http_client)
        self._username: str | None = None
        self._token: str | None = None
        self._fx_client = FuncXCompatibility()
        self._documents: dict[str, dict[str, Any]] = {}
        self._futures: weakref.WeakSet[DLHubFuture] = weakref.WeakSet()
        if anonymous:
            return
        if token is None and not force_login:
            token = os.environ.get("DLHUB_TOKEN") or None
            if token is None:
                stored = _credentials.load_credentials(self.base_url)
                if stored is not None:
                    token, self._username = stored["token"], stored.get("username")
        self._token = token if token is not None else self._ask_for_login()

    # ------------------------------------------------------------------ accounts
    @classmethod
    def login(
        cls,
        username: str,
        password: str,
        *,
        base_url: str | None = None,
        register: bool = False,
        http_timeout: float | None = None,
        http_client: httpx.Client | None = None,
    ) -> DLHubClient:
        """Log in (creating the account first when ``register=True``) and store the token.

        The token is written to ``~/.dlhub/credentials/DLHub_Client_tokens.json``
        (readable only by you), where later clients and the ``dlhub`` command find it.

        Args:
            username: Your user name on the hub.
            password: Your password.
            base_url: The hub's URL (default: ``DLHUB_URL``, else ``http://127.0.0.1:5000``).
            register: Create the account first (the hub must allow sign-up).
            http_timeout: Seconds to wait for the hub's answers.
            http_client: An ``httpx.Client`` to send requests with (tests).

        Returns:
            A client using the new token.

        Raises:
            AuthenticationError: Wrong user name or password.
            Conflict: ``register=True`` but the name is taken.
            PermissionDenied: ``register=True`` but the hub's sign-up is closed.
        """
        url = _base_url(base_url, http_client)
        credentials = {"username": username, "password": password}
        hub = HubSession(url, http_timeout, http_client)
        try:
            if register:
                hub.request("POST", "/api/v1/users", json=credentials)
            answer = hub.request("POST", "/api/v1/tokens", json=credentials).json()
        finally:
            hub.close()
        _credentials.save_credentials(
            url, answer["token"], answer["username"], answer.get("expires_at")
        )
        client = cls(url, token=answer["token"], http_timeout=http_timeout, http_client=http_client)
        client._username = answer["username"]
        return client

    def _ask_for_login(self) -> str:
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            raise AuthenticationError(
                f"not logged in to the DLHub hub at {self.base_url}: run `dlhub login`, call "
                "DLHubClient.login(username, password), set DLHUB_TOKEN, or use "
                "DLHubClient(anonymous=True) for public servables"
            )
        print(f"Log in to the DLHub hub at {self.base_url}", file=sys.stderr)
        username = input("User name: ").strip()
        password = getpass.getpass("Password: ")
        answer = self._hub.request(
            "POST", "/api/v1/tokens", json={"username": username, "password": password}
        ).json()
        _credentials.save_credentials(
            self.base_url, answer["token"], answer["username"], answer.get("expires_at")
        )
        self._username = answer["username"]
        return str(answer["token"])

    def logout(self) -> None:
        """Revoke the token at the hub and remove it from this computer."""
        if self._token is not None:
            try:
                self._hub.request("DELETE", "/api/v1/tokens/current", token=self._token)
            except AuthenticationError:
                pass  # already expired or revoked: nothing left to revoke
        _credentials.delete_credentials(self.base_url)
        self._token = None
        self._username = None

    def get_username(self) -> str:
        """Get the user name associated with the current credentials.

        Raises:
            AuthenticationError: Not logged in, or the token is no longer valid.
        """
        if self._username is None:
            self._username = str(self._get("/api/v1/me")["username"])
        return self._username

    def get_groups(self) -> list[dict[str, Any]]:
        """The groups you belong to or own, each ``{"name", "owner", "members"}``."""
        items: list[dict[str, Any]] = self._get("/api/v1/groups")["items"]
        return items

    def create_group(self, name: str) -> dict[str, Any]:
        """Create a group you own (share servables with it: ``set_visibility(groups=[name])``)."""
        answer: dict[str, Any] = self._send("POST", "/api/v1/groups", json={"name": name}).json()
        return answer

    def add_group_member(self, group: str, username: str) -> dict[str, Any]:
        """Add a user to a group you own; returns the group."""
        answer: dict[str, Any] = self._send(
            "PUT", f"/api/v1/groups/{group}/members/{username}"
        ).json()
        return answer

    def remove_group_member(self, group: str, username: str) -> None:
        """Remove a user from a group you own."""
        self._send("DELETE", f"/api/v1/groups/{group}/members/{username}")

    # ------------------------------------------------------------------ publishing
    def publish_servable(self, model: Any) -> str:
        """Submit a servable (or dataset, or pipeline) to the hub.

        Zips the files the model lists, sends them with its document, and returns
        the id of the publication task. Publishing a name you published before
        makes a new version of it.

        Args:
            model (BaseMetadataModel): Servable to be submitted.

        Returns:
            (string) Task id of this submission, for :meth:`get_task_status`.

        Raises:
            InvalidMetadata: The description is incomplete (locally) or the hub refused it
                (``MetadataRejected``, listing every problem).
            InvalidUpload: The files could not be accepted.
            PermissionDenied: The document belongs to another owner.
        """
        document = model.to_dict(simplify_paths=True)
        with tempfile.TemporaryDirectory(prefix="dlhub-publish-") as folder:
            zip_path = Path(folder) / "files.zip"
            model.get_zip_file(zip_path)
            return self._upload(document, zip_path)

    def publish_repository(self, url: str, path: str | None = None) -> str:
        """Submit a git repository to the hub for publication.

        Clones ``url`` (anything ``git clone`` accepts, a local path too), reads
        ``dlhub.json`` at its root or in the folder ``path``, and publishes it with
        the files it lists (paths relative to that folder). The repository's URL is
        recorded in the published document (``dlhub.source_repository``).

        Args:
            url: The repository.
            path: Folder inside the repository that holds ``dlhub.json``.

        Returns:
            (string) Task id of this submission.

        Raises:
            RepositoryError: git cannot clone it, or it has no ``dlhub.json`` there.
            InvalidMetadata: ``dlhub.json`` is not valid or lists files the repository lacks.
        """
        from dlhub_sdk.utils import unserialize_object

        with tempfile.TemporaryDirectory(prefix="dlhub-repository-") as folder:
            checkout = Path(folder) / "repository"
            _clone(url, checkout)
            root = checkout.resolve()
            base = (root / path).resolve() if path else root
            if not base.is_relative_to(root):
                raise RepositoryError(f"path {path!r} leaves the repository")
            description = base / "dlhub.json"
            if not description.is_file():
                where = f"folder {path!r}" if path else "root"
                raise RepositoryError(f"no dlhub.json at the {where} of {url}")
            try:
                document = json.loads(description.read_text())
            except json.JSONDecodeError as exc:
                raise InvalidMetadata(f"dlhub.json in {url} is not valid JSON: {exc}") from exc
            if not isinstance(document, dict) or not isinstance(document.get("dlhub"), dict):
                raise InvalidMetadata("dlhub.json does not hold a DLHub document", field="dlhub")
            document["dlhub"]["files"] = _files_in_checkout(
                document["dlhub"].get("files"), base, root
            )
            model = unserialize_object(document)
            source = {"url": url, "path": path or ""}
            simplified = model.to_dict(simplify_paths=True)
            zip_path = Path(folder) / "files.zip"
            model.get_zip_file(zip_path)
            return self._upload(simplified, zip_path, source)

    def easy_publish(
        self,
        title: str,
        creators: str | list[str],
        short_name: str,
        servable_type: str,
        serv_options: dict[str, Any],
        affiliations: list[Sequence[str]] | None = None,
        paper_doi: str | None = None,
    ) -> str:
        """Simplified publishing method for servables.

        Args:
            title: Title for the servable.
            creators: The creator's name (``"FamilyName, GivenName"``) or a list of them.
            short_name: Short name for the servable.
            servable_type: One of ``static_method``, ``class_method``, ``keras``,
                ``pytorch``, ``tensorflow``, ``sklearn``.
            serv_options: The arguments of that type's ``create_model`` (for Python
                functions, their inputs and outputs are read from type hints).
            affiliations: Affiliations of each author.
            paper_doi: DOI of a paper that describes the servable.

        Returns:
            (string) Task id of this submission.

        Raises:
            InvalidMetadata: (a ``ValueError``) ``servable_type`` is not one of the six, or
                ``serv_options`` cannot describe the servable.
        """
        if servable_type not in EASY_PUBLISH_TYPES:
            raise InvalidMetadata(
                f"servable_type {servable_type!r} is not one of {', '.join(EASY_PUBLISH_TYPES)}",
                field="servable_type",
            )
        module_name, class_name = EASY_PUBLISH_TYPES[servable_type]
        model_class = getattr(importlib.import_module(module_name), class_name)
        options = dict(serv_options)
        if servable_type in ("static_method", "class_method"):
            options.setdefault("auto_inspect", True)
        try:
            model = model_class.create_model(**options)
        except Exception as exc:
            raise InvalidMetadata(
                f"could not describe a {servable_type} servable with serv_options "
                f"{sorted(options)}: {exc}. See help({class_name}.create_model) for its arguments"
            ) from exc
        model.set_title(title)
        model.set_creators(
            [creators] if isinstance(creators, str) else list(creators), affiliations or []
        )
        model.set_name(short_name)
        if paper_doi is not None:
            model.add_related_resource(paper_doi, "DOI", "IsDescribedBy")
        return self.publish_servable(model)

    def get_task_status(self, task_id: str) -> dict[str, Any]:
        """Get the status of a task you started (e.g. a publication).

        Args:
            task_id: UUID of the task.

        Returns:
            ``{"id", "kind", "status", "steps": [{"name", "state", "log", ...}], "result", ...}``.

        Raises:
            TaskNotFound: No task with that id that you started.
        """
        task: dict[str, Any] = self._get(f"/api/v1/tasks/{task_id}")
        return task

    # ------------------------------------------------------------------ discovering
    def describe_servable(self, name: str) -> dict[str, Any]:
        """Get the description of a servable.

        Args:
            name: ``owner/name`` (newest version) or ``owner/name:VERSION``.

        Returns:
            The servable's complete document.

        Raises:
            ServableNotFound: No such servable (or version) that you can see.
        """
        owner, short, version = parse_name(name)
        path = f"/api/v1/servables/{owner}/{short}"
        if version is not None:
            path += f"/versions/{version}"
        document: dict[str, Any] = self._get(path)
        return document

    def describe_methods(self, name: str, method: str | None = None) -> dict[str, Any]:
        """Get the description of the method(s) of a servable (without their ``method_details``).

        Args:
            name: ``owner/name`` or ``owner/name:VERSION``.
            method: Name of one method.

        Returns:
            All methods by name, or the one method asked for.
        """
        from dlhub_sdk.utils.search import get_method_details

        return get_method_details(self.describe_servable(name), method)

    def get_servables(self, only_latest_version: bool = True) -> list[dict[str, Any]]:
        """Get every servable you can see.

        Args:
            only_latest_version: Only the newest version of each servable.

        Returns:
            ([dict]) Complete documents, by owner and name.
        """
        return list(self._iter_servables(only_latest_version))

    def _iter_servables(self, latest: bool) -> Iterator[dict[str, Any]]:
        yield from self._hub.paginate(
            "/api/v1/servables", token=self._token, params={"latest": str(latest).lower()}
        )

    def list_servables(self) -> list[str]:
        """Get the names of the servables you can see.

        Returns:
            ([string]) Names in ``owner/name`` form.
        """
        return [doc["dlhub"]["shorthand_name"] for doc in self._iter_servables(True)]

    def get_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of a servable that you can see, newest first.

        Args:
            name: ``owner/name``.

        Raises:
            ServableNotFound: No such servable that you can see.
        """
        owner, short, version = parse_name(name)
        if version is not None:
            raise BadRequest(f"{name!r}: give the servable without a version ('owner/name')")
        return list(
            self._hub.paginate(f"/api/v1/servables/{owner}/{short}/versions", token=self._token)
        )

    # ------------------------------------------------------------------ changing
    def edit_servable(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the metadata of one of your servables' versions.

        ``changes`` is a partial document merged into the current one (objects
        merge, lists are replaced, ``None`` removes a field), e.g.
        ``{"datacite": {"titles": [{"title": "Better title"}]}}`` or
        ``{"dlhub": {"visible_to": ["public"]}}``. The name, type, files and the
        fields the hub sets cannot change.

        Args:
            name: ``owner/name`` (newest version) or ``owner/name:VERSION``.
            changes: The partial document.

        Returns:
            The version's new document.

        Raises:
            PermissionDenied: Not your servable.
            MetadataRejected: The changes are not allowed or make the document invalid.
        """
        owner, short, version = parse_name(name)
        path = f"/api/v1/servables/{owner}/{short}"
        if version is not None:
            path += f"/versions/{version}"
        document: dict[str, Any] = self._send("PATCH", path, json=changes).json()
        return document

    def delete_servable(self, name: str, version: int | None = None) -> list[int]:
        """Delete one version of a servable of yours, or all of them.

        Version numbers are never reused: the next publication continues the count.

        Args:
            name: ``owner/name`` (all versions) or ``owner/name:VERSION``.
            version: The version to delete (instead of writing it in ``name``).

        Returns:
            The deleted version numbers.

        Raises:
            PermissionDenied: Not your servable.
            ServableNotFound: No such servable or version that you can see.
        """
        owner, short, in_name = parse_name(name)
        if version is not None and in_name is not None and version != in_name:
            raise BadRequest(f"{name!r} names version {in_name}, but version={version} was given")
        number = version if version is not None else in_name
        path = f"/api/v1/servables/{owner}/{short}"
        if number is not None:
            path += f"/versions/{number}"
        deleted: list[int] = self._send("DELETE", path).json()["deleted_versions"]
        return deleted

    # ------------------------------------------------------------------ plumbing
    def _get(self, path: str, **kwargs: Any) -> Any:
        return self._send("GET", path, **kwargs).json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._hub.request(method, path, token=self._token, **kwargs)

    def _upload(
        self, document: dict[str, Any], zip_path: Path, source: dict[str, Any] | None = None
    ) -> str:
        size = zip_path.stat().st_size
        if size > _LARGE_UPLOAD:
            limit = int(self._get("/api/v1/info").get("max_upload_bytes") or 0)
            if limit and size > limit:
                raise PayloadTooLarge(
                    f"the files to publish zip to {size} bytes; the hub at {self.base_url} "
                    f"accepts at most {limit} bytes"
                )
        fields = {"document": json.dumps(document)}
        if source is not None:
            fields["source_repository"] = json.dumps(source)
        with open(zip_path, "rb") as raw, _UploadProgress(size) as advance:
            upload: Any = _ProgressFile(raw, advance) if advance is not None else raw
            answer = self._send(
                "POST",
                "/api/v1/servables",
                data=fields,
                files={"file": ("files.zip", upload, "application/zip")},
            ).json()
        return str(answer["task_id"])

    def close(self) -> None:
        """Stop watching asynchronous runs and close the connections to the hub.

        The runs themselves go on at the hub; ``get_result(task_id)`` fetches them later.
        """
        for future in list(self._futures):
            future.cancel()
            if not future.done():
                try:
                    future.set_exception(
                        TaskNotFinished(
                            f"the client was closed before task {future.task_id} ended; "
                            "get its result with get_result(task_id)"
                        )
                    )
                except InvalidStateError:  # it ended just now
                    pass
        self._hub.close()

    def __enter__(self) -> DLHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        who = self._username or ("anonymous" if self._token is None else "token")
        return f"DLHubClient({self.base_url!r}, {who})"


def _base_url(base_url: str | None, http_client: httpx.Client | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    if http_client is not None and str(http_client.base_url):
        return str(http_client.base_url).rstrip("/")
    return (os.environ.get("DLHUB_URL") or DEFAULT_URL).rstrip("/")


class _UploadProgress:
    """A rich progress bar for large uploads on a terminal; yields its ``advance`` or ``None``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if self.total <= _LARGE_UPLOAD or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task("uploading", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _clone(url: str, destination: Path) -> None:
    """``git clone --depth 1`` (shallow, any URL or local path git accepts)."""
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        result = subprocess.run(
            ["git", "clone", "--depth", "1", "--quiet", url, str(destination)],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RepositoryError("git is not installed; it is needed to publish a repository") from exc
    if result.returncode != 0:
        raise RepositoryError(f"git could not clone {url}: {result.stderr.strip()}")


def _files_in_checkout(files: Any, base: Path, root: Path) -> dict[str, Any]:
    """``dlhub.files`` with each path made absolute inside the checkout (missing ones refused)."""
    if not files:
        return {}
    if not isinstance(files, dict):
        raise InvalidMetadata(
            "must be an object of named files and an 'other' list", field="dlhub.files"
        )
    missing: list[str] = []

    def resolve(relative: str) -> str:
        path = (base / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            missing.append(relative)
        return str(path)

    resolved: dict[str, Any] = {}
    for key, value in files.items():
        if isinstance(value, str):
            resolved[key] = resolve(value)
        else:
            resolved[key] = [resolve(v) for v in value or []]
    if missing:
        raise InvalidMetadata(
            f"files listed in dlhub.json are not in the repository: {', '.join(missing)} "
            "(paths are relative to the folder of dlhub.json)",
            field="dlhub.files",
        )
    return resolved
