"""The datacite block: DataCite kernel-4 XML export, reading XML back, and round trips."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models._datacite_xml import (
    DATACITE_NAMESPACE,
    datacite_from_xml,
    datacite_to_xml,
)
from dlhub_sdk.models.datacite import Datacite
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils import unserialize_object
from dlhub_sdk.utils.schemas import validate_against_dlhub_schema

NS = {"dc": DATACITE_NAMESPACE}
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: A datacite block using every property the XML export knows.
FULL_BLOCK: dict[str, Any] = {
    "identifier": {"identifier": "10.26311/example.1", "identifierType": "DOI"},
    "creators": [
        {
            "creatorName": "Ward, Logan",
            "familyName": "Ward",
            "givenName": "Logan",
            "nameType": "Personal",
            "nameIdentifiers": [
                {
                    "nameIdentifier": "0000-0002-1323-5939",
                    "nameIdentifierScheme": "ORCID",
                    "schemeURI": "https://orcid.org",
                }
            ],
            "affiliations": ["Argonne National Laboratory", "University of Chicago"],
        },
        {"creatorName": "Materials Data Facility", "affiliations": []},
    ],
    "titles": [
        {"title": "Band gaps & <formation> energies", "lang": "en"},
        {"title": "Bandlücken", "titleType": "TranslatedTitle", "lang": "de"},
    ],
    "publisher": "DLHub",
    "publicationYear": "2024",
    "resourceType": {"resourceTypeGeneral": "InteractiveResource", "resourceType": "Servable"},
    "subjects": [
        {"subject": "materials science", "subjectScheme": "keyword"},
        {
            "subject": "Chemistry",
            "schemeURI": "https://www.oecd.org",
            "valueURI": "https://x/1.4",
            "lang": "en",
        },
    ],
    "contributors": [
        {
            "contributorType": "ContactPerson",
            "contributorName": "Chard, Ryan",
            "givenName": "Ryan",
            "familyName": "Chard",
            "affiliations": ["Argonne"],
        }
    ],
    "dates": [
        {"date": "2024-01-02", "dateType": "Created"},
        {"date": "2024-03-04", "dateType": "Updated", "dateInformation": "New weights"},
    ],
    "language": "en",
    "alternateIdentifiers": [
        {"alternateIdentifier": "local-7", "alternateIdentifierType": "Local"}
    ],
    "relatedIdentifiers": [
        {
            "relatedIdentifier": "10.1038/npjcompumats.2016.28",
            "relatedIdentifierType": "DOI",
            "relationType": "IsDescribedBy",
        },
        {
            "relatedIdentifier": "https://github.com/x/y",
            "relatedIdentifierType": "URL",
            "relationType": "IsDerivedFrom",
            "resourceTypeGeneral": "Software",
        },
    ],
    "sizes": ["15 MB"],
    "formats": ["application/json"],
    "version": "1.2",
    "rightsList": [
        {"rights": "MIT License", "rightsURI": "https://spdx.org/licenses/MIT", "lang": "en"},
        {"rightsURI": "info:eu-repo/semantics/openAccess"},
    ],
    "descriptions": [
        {"description": "Predicts band gaps", "descriptionType": "Abstract"},
        {"description": "Random forest on OQMD", "descriptionType": "Methods", "lang": "en"},
    ],
    "geoLocations": [
        {
            "geoLocationPlace": "Lemont, IL",
            "geoLocationPoint": {"pointLongitude": -87.98, "pointLatitude": 41.71},
            "geoLocationBox": {
                "westBoundLongitude": -88,
                "eastBoundLongitude": -87.5,
                "southBoundLatitude": 41.5,
                "northBoundLatitude": 42,
            },
            "geoLocationPolygons": [
                {
                    "polygonPoints": [
                        {"pointLongitude": -88, "pointLatitude": 41},
                        {"pointLongitude": -87, "pointLatitude": 41},
                        {"pointLongitude": -87, "pointLatitude": 42},
                        {"pointLongitude": -88, "pointLatitude": 41},
                    ],
                    "inPolygonPoint": {"pointLongitude": -87.5, "pointLatitude": 41.5},
                }
            ],
        }
    ],
    "fundingReferences": [
        {
            "funderName": "U.S. Department of Energy",
            "funderIdentifier": {
                "funderIdentifier": "https://doi.org/10.13039/100000015",
                "funderIdentifierType": "Crossref Funder ID",
            },
            "awardNumber": {
                "awardNumber": "DE-AC02-06CH11357",
                "awardURI": "https://www.energy.gov",
            },
            "awardTitle": "Argonne operations",
        },
        {"funderName": "NIST"},
    ],
}


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode())


def _model() -> PythonStaticMethodModel:
    return (
        PythonStaticMethodModel.create_model("numpy", "max")
        .set_inputs("ndarray", "x", shape=[None])
        .set_outputs("float", "max")
        .set_title("Maximum")
        .set_name("maximum")
        .set_creators(["Ward, Logan"], [["Argonne", "UChicago"]])
        .set_abstract("Finds the maximum")
        .set_doi("10.5555/max")
        .set_version(2)
        .add_related_resource("10.5555/paper", "DOI", "IsDescribedBy")
        .add_alternate_identifier("https://example.org/max", "URL")
        .add_rights("https://spdx.org/licenses/MIT", "MIT")
        .add_funding_reference(
            "NSF", "https://ror.org/021nxhr62", "Other", "OAC-1", "CSSI", "https://nsf.gov/a"
        )
    )


def test_the_full_block_is_valid_datacite() -> None:
    validate_against_dlhub_schema(FULL_BLOCK, "datacite")


def test_model_xml_has_the_namespace_and_every_field() -> None:
    model = _model()
    model.datacite.subjects = [{"subject": "statistics"}]  # type: ignore[list-item]
    model.datacite.language = "en"
    root = _parse(model.datacite.to_xml())
    assert root.tag == f"{{{DATACITE_NAMESPACE}}}resource"
    assert root.get(f"{XSI}schemaLocation", "").startswith(f"{DATACITE_NAMESPACE} ")
    identifier = root.find("dc:identifier", NS)
    assert identifier is not None and identifier.text == "10.5555/max"
    assert identifier.get("identifierType") == "DOI"
    creator = root.find("dc:creators/dc:creator", NS)
    assert creator is not None
    assert creator.findtext("dc:creatorName", namespaces=NS) == "Ward, Logan"
    assert creator.findtext("dc:givenName", namespaces=NS) == "Logan"
    assert creator.findtext("dc:familyName", namespaces=NS) == "Ward"
    assert [a.text for a in creator.findall("dc:affiliation", NS)] == ["Argonne", "UChicago"]
    assert root.findtext("dc:titles/dc:title", namespaces=NS) == "Maximum"
    assert root.findtext("dc:publisher", namespaces=NS) == "DLHub"
    assert root.findtext("dc:publicationYear", namespaces=NS) == model.datacite.publicationYear
    resource_type = root.find("dc:resourceType", NS)
    assert resource_type is not None
    assert resource_type.get("resourceTypeGeneral") == "InteractiveResource"
    description = root.find("dc:descriptions/dc:description", NS)
    assert description is not None and description.text == "Finds the maximum"
    assert description.get("descriptionType") == "Abstract"
    related = root.find("dc:relatedIdentifiers/dc:relatedIdentifier", NS)
    assert related is not None and related.text == "10.5555/paper"
    assert related.get("relatedIdentifierType") == "DOI"
    assert related.get("relationType") == "IsDescribedBy"
    alternate = root.find("dc:alternateIdentifiers/dc:alternateIdentifier", NS)
    assert alternate is not None and alternate.get("alternateIdentifierType") == "URL"
    rights = root.find("dc:rightsList/dc:rights", NS)
    assert rights is not None and rights.text == "MIT"
    assert rights.get("rightsURI") == "https://spdx.org/licenses/MIT"
    funding = root.find("dc:fundingReferences/dc:fundingReference", NS)
    assert funding is not None
    assert funding.findtext("dc:funderName", namespaces=NS) == "NSF"
    funder = funding.find("dc:funderIdentifier", NS)
    assert funder is not None and funder.get("funderIdentifierType") == "Other"
    award = funding.find("dc:awardNumber", NS)
    assert (
        award is not None and award.text == "OAC-1" and award.get("awardURI") == "https://nsf.gov/a"
    )
    assert funding.findtext("dc:awardTitle", namespaces=NS) == "CSSI"
    assert root.findtext("dc:subjects/dc:subject", namespaces=NS) == "statistics"
    assert root.findtext("dc:version", namespaces=NS) == "2"
    assert root.findtext("dc:language", namespaces=NS) == "en"
    # empty lists are left out rather than written as empty wrappers
    assert root.find("dc:contributors", NS) is None and root.find("dc:dates", NS) is None


def test_xml_text_is_escaped_and_attributes_carry_the_language() -> None:
    xml = datacite_to_xml(FULL_BLOCK)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "&amp; &lt;formation&gt;" in xml
    titles = _parse(xml).findall("dc:titles/dc:title", NS)
    assert [t.text for t in titles] == ["Band gaps & <formation> energies", "Bandlücken"]
    assert [t.get(XML_LANG) for t in titles] == ["en", "de"]
    assert titles[1].get("titleType") == "TranslatedTitle"


def test_xml_round_trip_keeps_every_field() -> None:
    assert datacite_from_xml(datacite_to_xml(FULL_BLOCK)) == FULL_BLOCK


def test_model_round_trip_through_xml() -> None:
    block = _model().to_dict()["datacite"]
    back = datacite_from_xml(_model().datacite.to_xml())
    assert back == {key: value for key, value in block.items() if value != []}
    # and what comes back is a datacite block the SDK and the schema accept
    validate_against_dlhub_schema(Datacite.model_validate(back), "datacite")


def test_organisational_name_type_uses_the_xsd_spelling() -> None:
    block = copy.deepcopy(FULL_BLOCK)
    block["creators"][1]["nameType"] = "Organisational"
    name = _parse(datacite_to_xml(block)).findall("dc:creators/dc:creator/dc:creatorName", NS)[1]
    assert name.get("nameType") == "Organizational"


def test_datacite_fields_survive_document_round_trips() -> None:
    model = _model()
    model.datacite.subjects = [{"subject": "statistics", "subjectScheme": "keyword"}]  # type: ignore[list-item]
    model.datacite.language = "en"
    document = model.to_dict()
    loaded = unserialize_object(document)
    assert loaded.to_dict()["datacite"] == document["datacite"]
    assert loaded.datacite.to_xml() == model.datacite.to_xml()
    full = copy.deepcopy(document)
    full["datacite"] = copy.deepcopy(FULL_BLOCK)
    reloaded = unserialize_object(full).to_dict()
    assert reloaded["datacite"] == FULL_BLOCK
    validate_against_dlhub_schema(reloaded, "servable")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("creators"), r"creators \(call set_creators\)"),
        (lambda b: b.update(titles=[]), r"titles \(call set_title\)"),
        (lambda b: b.pop("identifier"), "identifier"),
        (lambda b: b.update(resourceType={}), "resourceType.resourceTypeGeneral"),
        (lambda b: b.update(publisher=""), "publisher"),
    ],
)
def test_missing_mandatory_fields_are_named(change: Any, message: str) -> None:
    block = copy.deepcopy(FULL_BLOCK)
    change(block)
    with pytest.raises(InvalidMetadata, match=message):
        datacite_to_xml(block)


def test_model_without_authors_cannot_be_exported() -> None:
    model = PythonStaticMethodModel.create_model("numpy", "max").set_title("Max")
    with pytest.raises(InvalidMetadata, match="creators"):
        model.datacite.to_xml()


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"titles": "Maximum"}, "datacite.titles: must be a list"),
        ({"creators": ["Ward, Logan"]}, "datacite.creators.0: must be an object"),
        ({"sizes": [{"size": 3}]}, "datacite.sizes.0: must be a string"),
    ],
)
def test_malformed_blocks_are_named(block: dict[str, Any], field: str) -> None:
    merged = {**copy.deepcopy(FULL_BLOCK), **block}
    with pytest.raises(InvalidMetadata, match=field):
        datacite_to_xml(merged)


def test_not_a_dict() -> None:
    with pytest.raises(InvalidMetadata, match="must be a dict"):
        datacite_to_xml(["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<resource>", "not valid XML"),
        ("<resource/>", "expected a DataCite <resource>"),
        (
            '<record xmlns="http://datacite.org/schema/kernel-4"/>',
            "found {http://datacite.org/schema/kernel-4}record",
        ),
    ],
)
def test_reading_other_xml_fails_clearly(xml: str, message: str) -> None:
    with pytest.raises(InvalidMetadata, match=message):
        datacite_from_xml(xml)
