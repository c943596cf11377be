"""This module contains tools for describing objects being published to DLHub.

A description is a pydantic model with one block per part of the DLHub
document: ``datacite`` (citation metadata), ``dlhub`` (name, files, visibility,
requirements) and a block for the kind of object (``servable``, ``dataset`` or
``pipeline``). Setters chain (``model.set_title(...).set_name(...)``),
``to_dict()`` gives the JSON document and ``from_dict()`` reads one back.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from enum import Enum
from itertools import zip_longest
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import _files, _requirements
from dlhub_sdk.models._access import ItemAccessMixin
from dlhub_sdk.models.datacite import (
    Datacite,
    DataciteCreator,
    DataciteDescriptionType,
    DataciteRelatedIdentifier,
    DataciteRelatedIdentifierType,
    DataciteRelationType,
    DataciteResourceTypeGeneral,
    DataciteTitle,
)
from dlhub_sdk.version import __version__

__all__ = ["BaseMetadataModel", "DLHubMetadata", "DLHubType"]

#: Names are used in URLs and in ``owner/name:version``, so they hold no spaces, slashes or colons.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class DLHubType(str, Enum):
    """Type supported by DLHub."""

    dataset = "dataset"
    servable = "servable"
    pipeline = "pipeline"


def check_name(name: str) -> str:
    """Return ``name`` if it can name a DLHub object, else raise :class:`InvalidMetadata`."""
    if not isinstance(name, str) or NAME_PATTERN.match(name) is None:
        raise InvalidMetadata(
            f"{name!r} is not a valid name: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no spaces, slashes or colons)",
            field="dlhub.name",
        )
    return name


def visibility_entry(kind: str, who: str) -> str:
    """How one allowed user or group is written in ``dlhub.visible_to``.

    Globus identities (UUIDs or URNs) keep the original URN form so documents
    written for the hosted DLHub keep working; local names are ``user:NAME`` and
    ``group:NAME``.
    """
    if who.startswith(("urn:", "user:", "group:")) or who == "public":
        return who
    if _UUID.match(who):
        return (
            f"urn:globus:auth:identity:{who}" if kind == "user" else f"urn:globus:groups:id:{who}"
        )
    return f"{kind}:{who}"


def _empty_dependencies() -> dict[str, dict[str, str | None]]:
    return {"python": {}}


class DLHubMetadata(ItemAccessMixin, BaseModel):
    """Basic metadata for a DLHub artefact.

    Includes information used by the DLHub web service to recognize an object,
    define how to build the computational environment, control access to it, et
    cetera. Fields the hub adds at publication (``owner``, ``id``,
    ``publication_date``, ...) are kept as extra fields.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True, use_enum_values=True)

    version: str = __version__
    domains: list[str] = Field(default_factory=list)
    visible_to: list[str] = Field(default_factory=lambda: ["public"])
    name: str | None = None
    files: dict[str, str | list[str]] = Field(default_factory=dict)
    type: DLHubType | None = None
    dependencies: dict[str, dict[str, str | None]] = Field(default_factory=_empty_dependencies)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("visible_to")
    @classmethod
    def _nonempty_visibility(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("visible_to needs at least one entry ('public' for everyone)")
        return value


class BaseMetadataModel(ItemAccessMixin, BaseModel):
    """Base class for models describing objects published via DLHub.

    Covers information that goes in the ``datacite`` block of the metadata file
    and some of the DLHub block. Each kind of object (servable, dataset,
    pipeline) is a subclass made with its ``create_model`` class method; fill in
    a title and name (required) and, better, an abstract, authors and related
    papers, then save it with :meth:`to_dict` (or :meth:`save`) and read it back
    with :meth:`from_dict` (or :meth:`load`).
    """

    model_config = ConfigDict(validate_assignment=True, protected_namespaces=())

    #: The ``dlhub.type`` and DataCite resource type of this kind of object.
    _dlhub_type: ClassVar[DLHubType | None] = None
    _resource_type: ClassVar[DataciteResourceTypeGeneral] = DataciteResourceTypeGeneral.Other

    datacite: Datacite = Field(default_factory=Datacite)
    dlhub: DLHubMetadata = Field(default_factory=DLHubMetadata)

    def model_post_init(self, context: Any, /) -> None:
        if self.dlhub.type is None and self._dlhub_type is not None:
            self.dlhub.type = self._dlhub_type
        if "resourceType" not in self.datacite.model_fields_set:
            self.datacite.resourceType.resourceTypeGeneral = self._resource_type

    # ----------------------------------------------------------------- creating
    @classmethod
    def create_model(cls, **kwargs: Any) -> Self:
        """Instantiate the metadata model.

        Subclasses take arguments that let them describe the object automatically
        (which method of a pickle to call, how a data file is read, ...).
        """
        return cls(**kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseMetadataModel:
        """Read a DLHub document (ours, or one written for the original DLHub).

        Called on :class:`BaseMetadataModel` itself, the class is chosen from the
        document; called on a subclass, the document must be of that kind.

        Raises:
            InvalidMetadata: The document is malformed; the message names the field.
            UnknownServableType: The document names a servable type this SDK does not know.
        """
        from dlhub_sdk.models._registry import model_from_dict

        return model_from_dict(data, expected=cls)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BaseMetadataModel:
        """Read a document saved as JSON (``.json``) or YAML (``.yaml``/``.yml``)."""
        text = Path(path).read_text()
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidMetadata(f"{os.fspath(path)} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidMetadata(f"{os.fspath(path)} does not hold a DLHub document (an object)")
        return cls.from_dict(data)

    # ----------------------------------------------------------------- rendering
    def validate_complete(self) -> None:
        """Raise :class:`InvalidMetadata` naming the first required field that is missing."""
        if not self.datacite.titles:
            raise InvalidMetadata(
                "a title is required: call set_title(...)", field="datacite.titles"
            )
        if not self.dlhub.name:
            raise InvalidMetadata("a name is required: call set_name(...)", field="dlhub.name")

    def to_dict(self, simplify_paths: bool = False) -> dict[str, Any]:
        """Render the object to a JSON-ready dictionary.

        Args:
            simplify_paths: Write file paths relative to the folder that holds all
                of them (the layout inside the zip from :meth:`get_zip_file`).

        Raises:
            InvalidMetadata: A required field (title, name, inputs, ...) is missing.
        """
        self.validate_complete()
        document = self.model_dump(mode="json", exclude_none=True)
        if simplify_paths:
            document["dlhub"]["files"] = self._simplified_files()
        return document

    def save(self, path: str | os.PathLike[str], simplify_paths: bool = False) -> None:
        """Write the document to ``path`` as JSON, or YAML when the name ends in .yaml/.yml."""
        document = self.to_dict(simplify_paths=simplify_paths)
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(document, sort_keys=False)
        else:
            text = json.dumps(document, indent=2)
        tmp = Path(f"{os.fspath(path)}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    # ----------------------------------------------------------------- datacite
    @property
    def name(self) -> str | None:
        """The name of the object (``dlhub.name``)."""
        return self.dlhub.name

    def set_title(self, title: str) -> Self:
        """Set the title for this object."""
        if not isinstance(title, str) or not title.strip():
            raise InvalidMetadata("the title must be a non-empty string", field="datacite.titles")
        self.datacite.titles = [DataciteTitle(title=title)]
        return self

    def set_name(self, name: str) -> Self:
        """Set the name of the object: short, descriptive and memorable, without spaces."""
        self.dlhub.name = check_name(name)
        return self

    def set_creators(
        self, authors: list[str] | str, affiliations: Sequence[Sequence[str] | str] = ()
    ) -> Self:
        """Set the authors of this object.

        Args:
            authors: Author names in ``"Family Name, Given Name"`` format.
            affiliations: Affiliations of each author, in the same order.
        """
        if isinstance(authors, str):
            authors = [authors]
        if len(affiliations) > len(authors):
            raise InvalidMetadata(
                f"{len(affiliations)} affiliations given for {len(authors)} authors",
                field="datacite.creators",
            )
        creators = []
        for author, affiliation in zip_longest(authors, affiliations, fillvalue=()):
            if isinstance(affiliation, str):
                affiliation = [affiliation]
            creators.append(DataciteCreator.from_name(str(author), list(affiliation)))
        self.datacite.creators = creators
        return self

    def set_authors(
        self, authors: list[str] | str, affiliations: Sequence[Sequence[str] | str] = ()
    ) -> Self:
        """Alias of :meth:`set_creators` (the name older SDK versions used)."""
        return self.set_creators(authors, affiliations)

    def set_abstract(self, abstract: str) -> Self:
        """Define an abstract for this object: a high-level summary."""
        self.datacite.set_description(DataciteDescriptionType.Abstract.value, abstract)
        return self

    def set_methods(self, methods: str) -> Self:
        """Describe how the object was made (training data, procedure, ...)."""
        self.datacite.set_description(DataciteDescriptionType.Methods.value, methods)
        return self

    def set_version(self, version: str | int | float) -> Self:
        """Set the version of this resource (a label of yours; the hub also numbers versions)."""
        self.datacite.version = str(version)
        return self

    def set_publication_year(self, year: str | int) -> Self:
        """Define the publication year (normally assigned automatically)."""
        year = str(year)
        if not re.fullmatch(r"\d{4}", year):
            raise InvalidMetadata(
                f"{year!r} is not a four-digit year", field="datacite.publicationYear"
            )
        self.datacite.publicationYear = year
        return self

    def set_doi(self, doi: str) -> Self:
        """Set the DOI of this object, if it already has one."""
        if not re.fullmatch(r"10\..+/.+", doi):
            raise InvalidMetadata(
                f"{doi!r} is not a DOI (10.PREFIX/SUFFIX)", field="datacite.identifier"
            )
        self.datacite.identifier.identifier = doi
        return self

    def set_domains(self, domains: list[str] | str) -> Self:
        """Set the fields of science associated with this object (e.g. "materials science")."""
        self.dlhub.domains = [domains] if isinstance(domains, str) else list(domains)
        return self

    def set_visibility(
        self, users: Iterable[str] | None = None, groups: Iterable[str] | None = None
    ) -> Self:
        """Restrict who can find, describe and run this object.

        By default an object is visible to anyone (``["public"]``). Give hub user
        names and group names (Globus identity and group UUIDs are accepted too).
        Calling it with neither makes the object public again.
        """
        if isinstance(users, str) or isinstance(groups, str):
            raise InvalidMetadata(
                "users and groups must be lists of names", field="dlhub.visible_to"
            )
        entries = [visibility_entry("user", u) for u in users or ()]
        entries += [visibility_entry("group", g) for g in groups or ()]
        self.dlhub.visible_to = entries or ["public"]
        return self

    def add_related_resource(
        self,
        identifier: str,
        identifier_type: str | DataciteRelatedIdentifierType,
        relation_type: str | DataciteRelationType,
    ) -> Self:
        """Add a resource related to this object (a paper, code, a training set).

        Common relation types are ``IsDescribedBy`` (a paper describing it),
        ``IsDocumentedBy``, ``IsDerivedFrom`` and ``Requires``.

        Raises:
            InvalidMetadata: The identifier or relation type is not a DataCite one.
        """
        try:
            related = DataciteRelatedIdentifier(
                relatedIdentifier=identifier,
                relatedIdentifierType=identifier_type,  # type: ignore[arg-type]
                relationType=relation_type,  # type: ignore[arg-type]
            )
        except ValueError as exc:
            raise InvalidMetadata(
                "unknown identifier or relation type; identifier types: "
                f"{[t.value for t in DataciteRelatedIdentifierType]}, relation types: "
                f"{[t.value for t in DataciteRelationType]}",
                field="datacite.relatedIdentifiers",
            ) from exc
        self.datacite.relatedIdentifiers = [*self.datacite.relatedIdentifiers, related]
        return self

    def add_related_identifier(
        self,
        identifier: str,
        identifier_type: str | DataciteRelatedIdentifierType,
        relation_type: str | DataciteRelationType,
    ) -> Self:
        """Alias of :meth:`add_related_resource` (the name older SDK versions used)."""
        return self.add_related_resource(identifier, identifier_type, relation_type)

    def add_alternate_identifier(self, identifier: str, identifier_type: str) -> Self:
        """Add an identifier this object has in another system."""
        from dlhub_sdk.models.datacite import DataciteAlternateIdentifier

        entry = DataciteAlternateIdentifier(
            alternateIdentifier=identifier, alternateIdentifierType=identifier_type
        )
        self.datacite.alternateIdentifiers = [*self.datacite.alternateIdentifiers, entry]
        return self

    def add_rights(self, uri: str | None = None, rights: str | None = None) -> Self:
        """Add a licence or rights statement (a URI, a text, or both)."""
        from dlhub_sdk.models.datacite import DataciteRights

        if uri is None and rights is None:
            raise InvalidMetadata(
                "give a rights URI, a rights text, or both", field="datacite.rightsList"
            )
        self.datacite.rightsList = [
            *self.datacite.rightsList,
            DataciteRights(rights=rights, rightsURI=uri),
        ]
        return self

    def add_funding_reference(
        self,
        name: str,
        identifier: str | None = None,
        identifier_type: str | None = None,
        award_number: str | None = None,
        award_title: str | None = None,
        award_uri: str | None = None,
    ) -> Self:
        """Add a source of funding."""
        from dlhub_sdk.models.datacite import DataciteFundingReference

        allowed = ("ISNI", "GRID", "Crossref Funder ID", "Other")
        if identifier is not None and identifier_type not in allowed:
            raise InvalidMetadata(
                f"identifier_type must be one of {allowed}", field="datacite.fundingReferences"
            )
        funder = DataciteFundingReference(
            funderName=name,
            funderIdentifier=(
                {"funderIdentifier": identifier, "funderIdentifierType": identifier_type}  # type: ignore[dict-item]
                if identifier is not None
                else None
            ),
            awardNumber=(
                {k: v for k, v in {"awardNumber": award_number, "awardURI": award_uri}.items() if v}  # type: ignore[misc]
                if award_number is not None
                else None
            ),
            awardTitle=award_title,
        )
        self.datacite.fundingReferences = [*self.datacite.fundingReferences, funder]
        return self

    def read_codemeta_file(self, directory: str | None = None) -> Self:
        """Read citation metadata from a ``codemeta.json`` file.

        Args:
            directory: Folder holding ``codemeta.json`` (default: the working directory).
        """
        from dlhub_sdk.models._codemeta import codemeta_to_datacite

        path = Path(directory or os.getcwd()) / "codemeta.json"
        try:
            codemeta = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no codemeta.json in {path.parent}") from exc
        except json.JSONDecodeError as exc:
            raise InvalidMetadata(f"{path} is not valid JSON: {exc}") from exc
        updates = codemeta_to_datacite(codemeta)
        merged = {**self.datacite.model_dump(exclude_none=True), **updates}
        self.datacite = Datacite.model_validate(merged)
        return self

    # ----------------------------------------------------------------- files
    def add_file(self, file: str | os.PathLike[str], name: str | None = None) -> Self:
        """Add a file to the list of files to be distributed with this object.

        Args:
            file: Path to the file.
            name: Role of the file when the shim needs it by name (e.g. ``"pickle"``
                for a pickled model); other files go in the ``other`` list.

        Raises:
            FileNotFoundError: The file does not exist.
        """
        path = os.fspath(file)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"file not found: {path!r} (paths are relative to {os.getcwd()})"
            )
        files = dict(self.dlhub.files)
        if name is None or name == "other":
            others = list(files.get("other", []))
            if path not in others:
                others.append(path)
            files["other"] = others
        else:
            files[name] = path
        self.dlhub.files = files
        return self

    def add_files(self, files: Iterable[str | os.PathLike[str]] | str) -> Self:
        """Add files that should be distributed with this object."""
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        for file in files:
            self.add_file(file)
        return self

    def add_directory(
        self,
        directory: str,
        include: str | Iterable[str] = (),
        exclude: str | Iterable[str] = (),
        recursive: bool = False,
    ) -> Self:
        """Add the files in a directory.

        Args:
            directory: Path to a directory.
            include: Only add files that match any of these glob patterns.
            exclude: Skip files that match any of these glob patterns.
            recursive: Also add the files in sub-directories.
        """
        return self.add_files(_files.files_in_directory(directory, include, exclude, recursive))

    def list_files(self) -> list[str]:
        """Provide a list of the files associated with this object."""
        listed: list[str] = []
        for value in self.dlhub.files.values():
            for path in [value] if isinstance(value, str) else value:
                if path not in listed:
                    listed.append(path)
        return listed

    def get_zip_file(self, path: str | os.PathLike[str]) -> str:
        """Write all the listed files to a ZIP file.

        The files keep their layout below the deepest folder holding all of them:
        ``/home/a.pkl`` and ``/home/a/b.dat`` are stored as ``a.pkl`` and ``a/b.dat``.

        Returns:
            The common folder, which maps the paths in the metadata to names in the zip.
        """
        return _files.write_zip(self.list_files(), path)

    def _simplified_files(self) -> dict[str, str | list[str]]:
        root = _files.common_root(self.list_files())
        simplified: dict[str, str | list[str]] = {}
        for key, value in self.dlhub.files.items():
            if isinstance(value, str):
                simplified[key] = _files.relative_to_root(value, root)
            else:
                simplified[key] = [_files.relative_to_root(v, root) for v in value]
        return simplified

    # ----------------------------------------------------------------- requirements
    def add_requirement(self, library: str, version: str | None = None) -> Self:
        """Add a required Python library.

        Args:
            library: Name on PyPI, or a URL pip can install (``git+https://...``).
            version: ``None`` for any version, ``'detect'`` for the version installed
                here, ``'latest'`` for the newest on the package index, a version
                (``'1.0.0b'``) or a specifier (``'>=1.2'``).

        Raises:
            RequirementError: The version cannot be detected, or the index cannot be reached.
        """
        if not isinstance(library, str) or not library.strip():
            raise InvalidMetadata("library must be a non-empty string", field="dlhub.dependencies")
        if version == "detect":
            version = _requirements.detect_version(library)
        elif version == "latest":
            version = _requirements.latest_version(library)
        elif version is not None:
            version = str(version)
        python = dict(self.dlhub.dependencies.get("python", {}))
        python[library] = version
        self.dlhub.dependencies = {**self.dlhub.dependencies, "python": python}
        return self

    def add_requirements(self, requirements: dict[str, str | None]) -> Self:
        """Add several Python libraries: a mapping of library name to version (as ``add_requirement``)."""
        for library, version in requirements.items():
            self.add_requirement(library, version)
        return self

    @property
    def requirements(self) -> dict[str, str | None]:
        """The Python requirements, library name to version (``None``: any)."""
        return dict(self.dlhub.dependencies.get("python", {}))

    def pip_requirements(self) -> list[str]:
        """The requirements as pip specifiers (``['numpy==2.0.0', 'torch>=2']``)."""
        return [_requirements.pip_spec(n, v) for n, v in self.requirements.items()]

    def parse_repo2docker_configuration(self, directory: str | None = None) -> Self:
        """Gather the environment from repo2docker configuration files.

        Reads ``requirements.txt`` and the ``pip`` part of ``environment.yml`` into
        the requirements, and adds ``runtime.txt`` and ``apt.txt`` as named files
        (``runtime`` and ``apt``) that the hub reads when it builds the environment.

        Args:
            directory: Folder holding the files (default: the working directory).
        """
        root = Path(directory or os.getcwd())
        if not root.is_dir():
            raise FileNotFoundError(f"directory not found: {os.fspath(root)!r}")
        found: dict[str, str | None] = {}
        if (root / "environment.yml").is_file():
            found.update(_requirements.read_environment_yml(root / "environment.yml"))
        if (root / "requirements.txt").is_file():
            found.update(_requirements.read_requirements_txt(root / "requirements.txt"))
        self.add_requirements(found)
        for file_name, role in (("runtime.txt", "runtime"), ("apt.txt", "apt")):
            if (root / file_name).is_file():
                self.add_file(os.path.join(os.fspath(directory or "."), file_name), name=role)
        return self
