"""Describing datasets: what a data file holds and how to read it.

A dataset document has a ``dataset`` block beside ``datacite`` and ``dlhub``::

    {"format": "csv", "read_options": {}, "columns": [{"name": "x", "type": "float",
     "description": "...", "units": "cm"}], "inputs": ["x"], "labels": ["y"]}

:class:`TabularDataset` reads the column names (and guesses their types) from a
delimited text file with the standard library, so describing a CSV file needs
no pandas.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel, DLHubType
from dlhub_sdk.models._access import ItemAccessMixin
from dlhub_sdk.models.datacite import DataciteResourceTypeGeneral

__all__ = ["Dataset", "DatasetColumn", "DatasetMetadata", "DatasetModel", "TabularDataset"]

#: How many data rows :class:`TabularDataset` reads to guess the type of each column.
TYPE_SAMPLE_ROWS = 1000

#: Formats :class:`TabularDataset` reads itself, and their default delimiter.
_DELIMITERS = {"csv": ",", "tsv": "\t", "table": "\t"}


class DatasetColumn(ItemAccessMixin, BaseModel):
    """One column of a tabular dataset."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    name: str = Field(min_length=1)
    type: str | None = None
    description: str | None = None
    units: str | None = None

    @field_validator("type")
    @classmethod
    def _nonempty_type(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the data type of a column must be a non-empty string")
        return value


def _names(value: Iterable[str] | str, what: str) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if not isinstance(name, str):
            raise InvalidMetadata(
                f"column names must be strings, not {type(name).__name__}", field=f"dataset.{what}"
            )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidMetadata(f"columns listed twice: {duplicates}", field=f"dataset.{what}")
    return names


class DatasetMetadata(ItemAccessMixin, BaseModel):
    """The ``dataset`` block: format, reading options, columns and their roles.

    ``inputs`` and ``labels`` may only name columns the block describes.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    format: str | None = None
    read_options: dict[str, Any] | None = None
    columns: list[DatasetColumn] = Field(default_factory=list)
    inputs: list[str] | None = None
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _roles_name_columns(self) -> DatasetMetadata:
        known = [column.name for column in self.columns]
        repeated = sorted({n for n in known if known.count(n) > 1})
        if repeated:
            raise ValueError(f"columns: column names must be unique; repeated: {repeated}")
        for role in ("inputs", "labels"):
            unknown = [n for n in getattr(self, role) or [] if n not in known]
            if unknown:
                raise ValueError(
                    f"{role}: unknown column(s) {unknown}; the columns are {known}"
                    + ("" if known else " (add them with add_column)")
                )
        return self


class DatasetModel(BaseMetadataModel):
    """Description of a dataset: citation metadata, files, and what the data holds.

    Build one with ``DatasetModel.create_model()`` (or :class:`TabularDataset`
    for a CSV file), list its files with :meth:`add_file`, describe the format
    and columns, then :meth:`to_dict` or :meth:`save` it like any DLHub object.
    """

    _dlhub_type: ClassVar[DLHubType | None] = DLHubType.dataset
    _resource_type: ClassVar[DataciteResourceTypeGeneral] = DataciteResourceTypeGeneral.Dataset

    dataset: DatasetMetadata = Field(default_factory=DatasetMetadata)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetModel:
        """Read a dataset document; called on a subclass, the result is of that subclass.

        Raises:
            InvalidMetadata: The document is malformed or is not a dataset.
        """
        from dlhub_sdk.models._registry import model_from_dict

        model = model_from_dict(data, expected=DatasetModel)
        if isinstance(model, cls):
            return model
        return cls.model_validate(model.model_dump())

    # ------------------------------------------------------------------ editing
    def _update_dataset(self, **changes: Any) -> Self:
        """Apply changes to the dataset block all at once, checking the result."""
        merged = {**self.dataset.model_dump(), **changes}
        try:
            self.dataset = DatasetMetadata.model_validate(merged)
        except ValidationError as exc:
            problems = "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())
            raise InvalidMetadata(problems, field="dataset") from None
        return self

    def set_format(self, format: str, read_options: dict[str, Any] | None = None) -> Self:
        """Set the format of the data file and the options to read it.

        Args:
            format: Format name, as in pandas' ``read_FORMAT`` (``"csv"``, ``"json"``...).
            read_options: Keyword arguments of that reader (e.g. ``{"sep": ";"}``).
        """
        if not isinstance(format, str) or not format.strip():
            raise InvalidMetadata("the format must be a non-empty string", field="dataset.format")
        if read_options is not None and not isinstance(read_options, dict):
            raise InvalidMetadata("read_options must be a dict", field="dataset.read_options")
        changes: dict[str, Any] = {"format": format}
        if read_options is not None:
            changes["read_options"] = dict(read_options)
        return self._update_dataset(**changes)

    @property
    def columns(self) -> list[str]:
        """Names of the described columns, in order."""
        return [column.name for column in self.dataset.columns]

    def get_column(self, name: str) -> DatasetColumn:
        """The description of one column (the object itself: edits change the model).

        Raises:
            InvalidMetadata: No column has that name (the message lists the columns).
        """
        for column in self.dataset.columns:
            if column.name == name:
                return column
        raise InvalidMetadata(
            f"no column named {name!r}; the columns are {self.columns}", field="dataset.columns"
        )

    def add_column(
        self,
        name: str,
        description: str | None = None,
        data_type: str | None = None,
        units: str | None = None,
    ) -> Self:
        """Describe a new column.

        Args:
            name: Name of the column.
            description: What the column holds.
            data_type: Type of its values (e.g. ``"float"``); required before the
                document is written, so give it here or with :meth:`annotate_column`.
            units: Units of its values, if any.

        Raises:
            InvalidMetadata: A column of that name exists already, or an argument is invalid.
        """
        if name in self.columns:
            raise InvalidMetadata(
                f"column {name!r} exists already; use annotate_column to change it",
                field="dataset.columns",
            )
        try:
            column = DatasetColumn(name=name, type=data_type, description=description, units=units)
        except ValidationError as exc:
            raise InvalidMetadata(_first_problem(exc), field="dataset.columns") from None
        return self._update_dataset(columns=[*self.dataset.columns, column])

    def annotate_column(
        self,
        column_name: str,
        description: str | None = None,
        data_type: str | None = None,
        units: str | None = None,
    ) -> Self:
        """Document a column, replacing what was given or guessed before.

        Args:
            column_name: Name of the column.
            description: What the column holds.
            data_type: Type of its values (overrides the type guessed from the file).
            units: Units of its values, if any.

        Raises:
            InvalidMetadata: No column has that name.
        """
        column = self.get_column(column_name)
        try:
            if description is not None:
                column.description = description
            if data_type is not None:
                column.type = data_type
            if units is not None:
                column.units = units
        except ValidationError as exc:
            raise InvalidMetadata(
                _first_problem(exc), field=f"dataset.columns.{column_name}"
            ) from None
        return self

    def get_unannotated_columns(self) -> list[str]:
        """Names of the columns that have no description yet."""
        return [column.name for column in self.dataset.columns if not column.description]

    def _known_columns(self, columns: Iterable[str] | str, role: str) -> list[str]:
        names = _names(columns, role)
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            hint = f"the columns are {self.columns}" if self.columns else "add them with add_column"
            raise InvalidMetadata(f"unknown column(s) {unknown}; {hint}", field=f"dataset.{role}")
        return names

    def mark_inputs(self, columns: Iterable[str] | str) -> Self:
        """Mark which columns are likely inputs of a model.

        Raises:
            InvalidMetadata: A name is not one of the columns (all of them are listed).
        """
        return self._update_dataset(inputs=self._known_columns(columns, "inputs"))

    def mark_labels(self, columns: Iterable[str] | str) -> Self:
        """Mark which columns are labels (likely outputs of a model).

        Raises:
            InvalidMetadata: A name is not one of the columns (all of them are listed).
        """
        return self._update_dataset(labels=self._known_columns(columns, "labels"))

    def validate_complete(self) -> None:
        super().validate_complete()
        untyped = [column.name for column in self.dataset.columns if not column.type]
        if untyped:
            raise InvalidMetadata(
                f"columns {untyped} have no data type: call annotate_column(name, data_type=...)",
                field="dataset.columns",
            )


#: The name older SDK versions used for :class:`DatasetModel`.
Dataset = DatasetModel


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _value_type(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return "boolean"
    try:
        int(lowered)
        return "integer"
    except ValueError:
        pass
    try:
        float(lowered)
        return "float"
    except ValueError:
        return "string"


def _column_type(values: Iterable[str]) -> str:
    """The narrowest type that fits every non-empty value (integers widen to floats)."""
    kinds = {_value_type(v) for v in values if v.strip()}
    if not kinds:
        return "string"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"integer", "float"}:
        return "float"
    return "string"


class TabularDataset(DatasetModel):
    """A dataset stored as one file of rows and named columns.

    :meth:`create_model` lists the columns of a CSV (or tab-separated) file and
    guesses the type of each from its first rows; document them further with
    :meth:`annotate_column`. Files of other formats (anything pandas reads) can
    be described too: their columns are then added by hand with :meth:`add_column`.
    """

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        path: str | os.PathLike[str],
        format: str = "csv",
        read_kwargs: dict[str, Any] | None = None,
    ) -> Self:
        """Describe a tabular data file.

        Args:
            path: Path to the data file.
            format: Format of the file, named as pandas' ``read_FORMAT`` function
                (``"csv"``; ``"tsv"``/``"table"`` for tab-separated files).
            read_kwargs: Options for that reader. For delimited text these are
                understood: ``sep``/``delimiter``, ``header`` (row of the names, or
                ``None``), ``names``, ``skiprows`` (a number), ``encoding``,
                ``quotechar``; all are stored in ``read_options``.

        Raises:
            FileNotFoundError: The file does not exist.
            InvalidMetadata: The file cannot be read as the format says.
        """
        model = cls()
        model.load_dataset(path, format, **(read_kwargs or {}))
        return model

    def load_dataset(self, path: str | os.PathLike[str], format: str, **kwargs: Any) -> Self:
        """Read the columns of a data file and make it the dataset's ``data`` file.

        Replaces the columns and clears the inputs and labels marked before.
        Arguments as :meth:`create_model`.
        """
        self.add_file(path, name="data")
        columns: list[DatasetColumn] = []
        if format.lower() in _DELIMITERS:
            columns = _read_delimited_columns(os.fspath(path), format.lower(), kwargs)
        self.dataset = DatasetMetadata(format=format, read_options=dict(kwargs), columns=columns)
        return self


def _read_delimited_columns(path: str, format: str, options: dict[str, Any]) -> list[DatasetColumn]:
    delimiter = options.get("sep", options.get("delimiter", _DELIMITERS[format]))
    header = options.get("header", 0)
    names = options.get("names")
    skiprows = options.get("skiprows", 0)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        # a regular-expression separator is pandas' business; the csv module takes one character
        raise InvalidMetadata(
            f"only a one-character separator can be read without pandas, not {delimiter!r}",
            field="dataset.read_options",
        )
    if not isinstance(skiprows, int) or isinstance(skiprows, bool) or skiprows < 0:
        raise InvalidMetadata(
            "skiprows must be a number of rows to skip", field="dataset.read_options"
        )
    if header is not None and (
        not isinstance(header, int) or isinstance(header, bool) or header < 0
    ):
        raise InvalidMetadata(
            "header must be the number of the row holding the column names, or None",
            field="dataset.read_options",
        )
    encoding = options.get("encoding") or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InvalidMetadata(
            f"unknown encoding {encoding!r}", field="dataset.read_options"
        ) from None
    try:
        with open(path, newline="", encoding=encoding) as handle:
            rows = _rows(handle, delimiter, options.get("quotechar", '"'), skiprows)
            header_row = None
            if header is not None:
                header_row = next(itertools.islice(rows, header, None), None)
                if header_row is None:
                    raise InvalidMetadata(
                        f"{path} has no header row {header}", field="dataset.columns"
                    )
            sample = list(itertools.islice(rows, TYPE_SAMPLE_ROWS))
    except UnicodeDecodeError as exc:
        raise InvalidMetadata(
            f"{path} is not {encoding} text ({exc.reason}); give read_kwargs={{'encoding': ...}}",
            field="dataset.read_options",
        ) from None
    except csv.Error as exc:
        raise InvalidMetadata(f"{path} is not valid {format}: {exc}", field="dataset") from None
    if names is not None:
        column_names = [str(n) for n in names]
    elif header_row is not None:
        column_names = [n.strip() for n in header_row]
    else:
        width = max((len(r) for r in sample), default=0)
        column_names = [str(i) for i in range(width)]
    if not column_names or any(not n for n in column_names):
        raise InvalidMetadata(
            f"{path} has empty column names {column_names}; give read_kwargs={{'names': [...]}}",
            field="dataset.columns",
        )
    columns = []
    for index, name in enumerate(column_names):
        values = (row[index] for row in sample if index < len(row))
        columns.append(DatasetColumn(name=name, type=_column_type(values)))
    return columns


def _rows(handle: Any, delimiter: str, quotechar: str, skiprows: int) -> Iterator[list[str]]:
    reader = csv.reader(handle, delimiter=delimiter, quotechar=quotechar)
    for row in itertools.islice(reader, skiprows, None):
        if row:  # blank lines, as pandas skips them
            yield row
