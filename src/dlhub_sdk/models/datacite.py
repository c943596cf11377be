"""The DataCite block of a DLHub document (DataCite kernel 4.1, as JSON).

Field names follow the DataCite JSON convention (camelCase) so that the block
can be dumped as is; :meth:`Datacite.to_xml` writes the same block as DataCite
XML, ready to register a DOI.
"""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dlhub_sdk.models._access import ItemAccessMixin

__all__ = [
    "Datacite",
    "DataciteAlternateIdentifier",
    "DataciteCreator",
    "DataciteDescription",
    "DataciteDescriptionType",
    "DataciteFundingReference",
    "DataciteIdentifier",
    "DataciteRelatedIdentifier",
    "DataciteRelatedIdentifierType",
    "DataciteRelationType",
    "DataciteResourceType",
    "DataciteResourceTypeGeneral",
    "DataciteRights",
    "DataciteSubject",
    "DataciteTitle",
    "UNASSIGNED_DOI",
]

#: Placeholder DOI used until a real one is assigned (the value the original DLHub wrote).
UNASSIGNED_DOI = "10.YET/UNASSIGNED"


class DataciteRelatedIdentifierType(str, Enum):
    """Kinds of identifier a related resource may have."""

    ARK = "ARK"
    arXiv = "arXiv"
    bibcode = "bibcode"
    DOI = "DOI"
    EAN13 = "EAN13"
    EISSN = "EISSN"
    Handle = "Handle"
    IGSN = "IGSN"
    ISBN = "ISBN"
    ISSN = "ISSN"
    ISTC = "ISTC"
    LISSN = "LISSN"
    LSID = "LSID"
    PMID = "PMID"
    PURL = "PURL"
    UPC = "UPC"
    URL = "URL"
    URN = "URN"


class DataciteRelationType(str, Enum):
    """How a related resource relates to the described object."""

    IsCitedBy = "IsCitedBy"
    Cites = "Cites"
    IsSupplementTo = "IsSupplementTo"
    IsSupplementedBy = "IsSupplementedBy"
    IsContinuedBy = "IsContinuedBy"
    Continues = "Continues"
    IsDescribedBy = "IsDescribedBy"
    Describes = "Describes"
    HasMetadata = "HasMetadata"
    IsMetadataFor = "IsMetadataFor"
    HasVersion = "HasVersion"
    IsVersionOf = "IsVersionOf"
    IsNewVersionOf = "IsNewVersionOf"
    IsPreviousVersionOf = "IsPreviousVersionOf"
    IsPartOf = "IsPartOf"
    HasPart = "HasPart"
    IsReferencedBy = "IsReferencedBy"
    References = "References"
    IsDocumentedBy = "IsDocumentedBy"
    Documents = "Documents"
    IsCompiledBy = "IsCompiledBy"
    Compiles = "Compiles"
    IsVariantFormOf = "IsVariantFormOf"
    IsOriginalFormOf = "IsOriginalFormOf"
    IsIdenticalTo = "IsIdenticalTo"
    Reviews = "Reviews"
    IsReviewedBy = "IsReviewedBy"
    IsDerivedFrom = "IsDerivedFrom"
    IsSourceOf = "IsSourceOf"
    IsRequiredBy = "IsRequiredBy"
    Requires = "Requires"


class DataciteResourceTypeGeneral(str, Enum):
    """The general kind of resource."""

    Audiovisual = "Audiovisual"
    Collection = "Collection"
    DataPaper = "DataPaper"
    Dataset = "Dataset"
    Event = "Event"
    Image = "Image"
    InteractiveResource = "InteractiveResource"
    Model = "Model"
    PhysicalObject = "PhysicalObject"
    Service = "Service"
    Software = "Software"
    Sound = "Sound"
    Text = "Text"
    Workflow = "Workflow"
    Other = "Other"


class DataciteDescriptionType(str, Enum):
    """Kinds of free-text description."""

    Abstract = "Abstract"
    Methods = "Methods"
    SeriesInformation = "SeriesInformation"
    TableOfContents = "TableOfContents"
    TechnicalInfo = "TechnicalInfo"
    Other = "Other"


class _Block(ItemAccessMixin, BaseModel):
    model_config = ConfigDict(
        extra="allow", validate_assignment=True, use_enum_values=True, populate_by_name=True
    )


class DataciteIdentifier(_Block):
    """The DOI of the object."""

    identifier: str = UNASSIGNED_DOI
    identifierType: str = "DOI"


class DataciteCreator(_Block):
    """An author, in ``Family, Given`` form."""

    creatorName: str
    familyName: str | None = None
    givenName: str | None = None
    affiliations: list[str] = Field(default_factory=list)
    nameType: str | None = None

    @classmethod
    def from_name(
        cls, name: str, affiliations: list[str] | tuple[str, ...] = ()
    ) -> DataciteCreator:
        """Build a creator from ``"Family, Given"`` (or a single organisational name)."""
        family, sep, given = (part.strip() for part in name.partition(","))
        if not family:
            raise ValueError(f"author name {name!r} is empty; write it as 'Family, Given'")
        if isinstance(affiliations, str):
            affiliations = [affiliations]
        if sep and given:
            return cls(
                creatorName=f"{family}, {given}",
                familyName=family,
                givenName=given,
                affiliations=list(affiliations),
            )
        return cls(creatorName=family, affiliations=list(affiliations))


class DataciteTitle(_Block):
    """A title of the object."""

    title: str = Field(min_length=1)
    titleType: str | None = None
    lang: str | None = None


class DataciteDescription(_Block):
    """A free-text description: the abstract, the methods, ..."""

    description: str = Field(min_length=1)
    descriptionType: DataciteDescriptionType
    lang: str | None = None


class DataciteRelatedIdentifier(_Block):
    """A resource (paper, code, data set) related to the object."""

    relatedIdentifier: str
    relatedIdentifierType: DataciteRelatedIdentifierType
    relationType: DataciteRelationType


class DataciteAlternateIdentifier(_Block):
    """Another identifier of the same object."""

    alternateIdentifier: str
    alternateIdentifierType: str


class DataciteRights(_Block):
    """A licence or rights statement."""

    rights: str | None = None
    rightsURI: str | None = None
    lang: str | None = None


class DataciteSubject(_Block):
    """A keyword or classification."""

    subject: str
    subjectScheme: str | None = None


class DataciteFundingReference(_Block):
    """A source of funding."""

    funderName: str
    funderIdentifier: dict[str, str] | None = None
    awardNumber: dict[str, str] | None = None
    awardTitle: str | None = None


class DataciteResourceType(_Block):
    """The kind of resource (servables are ``InteractiveResource``)."""

    resourceTypeGeneral: DataciteResourceTypeGeneral = (
        DataciteResourceTypeGeneral.InteractiveResource
    )
    resourceType: str | None = None


def _this_year() -> str:
    return str(_dt.date.today().year)


class Datacite(_Block):
    """The DataCite description of a published object."""

    identifier: DataciteIdentifier = Field(default_factory=DataciteIdentifier)
    creators: list[DataciteCreator] = Field(default_factory=list)
    titles: list[DataciteTitle] = Field(default_factory=list)
    publisher: str = "DLHub"
    publicationYear: str = Field(default_factory=_this_year)
    resourceType: DataciteResourceType = Field(default_factory=DataciteResourceType)
    descriptions: list[DataciteDescription] = Field(default_factory=list)
    fundingReferences: list[DataciteFundingReference] = Field(default_factory=list)
    relatedIdentifiers: list[DataciteRelatedIdentifier] = Field(default_factory=list)
    alternateIdentifiers: list[DataciteAlternateIdentifier] = Field(default_factory=list)
    rightsList: list[DataciteRights] = Field(default_factory=list)
    subjects: list[DataciteSubject] | None = None
    version: str | None = None
    language: str | None = None

    @property
    def title(self) -> str | None:
        """The main title, if set."""
        return self.titles[0].title if self.titles else None

    def to_xml(self) -> str:
        """Render this block as a DataCite kernel-4 XML document."""
        from dlhub_sdk.models._datacite_xml import datacite_to_xml

        return datacite_to_xml(self.model_dump(mode="json", exclude_none=True))

    def description_of(self, kind: str) -> str | None:
        """Text of the first description of ``kind`` (``Abstract``, ``Methods``...)."""
        for item in self.descriptions:
            if item.descriptionType == kind:
                return item.description
        return None

    def set_description(self, kind: str, text: str) -> None:
        """Replace the description of ``kind`` with ``text``."""
        kept = [d for d in self.descriptions if d.descriptionType != kind]
        self.descriptions = [*kept, DataciteDescription(description=text, descriptionType=kind)]  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        """The block as plain JSON-ready data."""
        return self.model_dump(mode="json", exclude_none=True)
