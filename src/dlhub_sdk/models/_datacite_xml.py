"""DataCite XML: the ``datacite`` block of a document as a kernel-4 ``<resource>``, and back.

The JSON block uses DataCite's own property names, so the mapping is mostly
mechanical: lists become a wrapper element (``creators``) holding one element
per item (``creator``), scalar sub-properties of an item become XML attributes
(``titleType``, ``relationType``) or child elements (``givenName``), and
``lang`` becomes ``xml:lang``. The XML is what a DOI registration agency takes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from dlhub_sdk.exceptions import InvalidMetadata

__all__ = ["DATACITE_NAMESPACE", "DATACITE_SCHEMA_LOCATION", "datacite_from_xml", "datacite_to_xml"]

DATACITE_NAMESPACE = "http://datacite.org/schema/kernel-4"
DATACITE_SCHEMA_LOCATION = "http://schema.datacite.org/meta/kernel-4.1/metadata.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: Wrapper element -> item element, for the simple lists whose items carry a text and attributes.
_TEXT_LISTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # JSON list: (XML item element, JSON key of the text, JSON keys written as attributes)
    "titles": ("title", "title", ("titleType", "lang")),
    "subjects": ("subject", "subject", ("subjectScheme", "schemeURI", "valueURI", "lang")),
    "dates": ("date", "date", ("dateType", "dateInformation")),
    "alternateIdentifiers": (
        "alternateIdentifier",
        "alternateIdentifier",
        ("alternateIdentifierType",),
    ),
    "relatedIdentifiers": (
        "relatedIdentifier",
        "relatedIdentifier",
        (
            "relatedIdentifierType",
            "relationType",
            "resourceTypeGeneral",
            "relatedMetadataScheme",
            "schemeURI",
            "schemeType",
        ),
    ),
    "rightsList": ("rights", "rights", ("rightsURI", "lang")),
    "descriptions": ("description", "description", ("descriptionType", "lang")),
}

#: Lists of plain strings.
_STRING_LISTS = {"sizes": "size", "formats": "format"}

_POINT = ("pointLongitude", "pointLatitude")
_BOX = ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")

#: Order of the elements in the kernel-4 schema (it accepts any order; registries print this one).
_ORDER = (
    "identifier",
    "creators",
    "titles",
    "publisher",
    "publicationYear",
    "resourceType",
    "subjects",
    "contributors",
    "dates",
    "language",
    "alternateIdentifiers",
    "relatedIdentifiers",
    "sizes",
    "formats",
    "version",
    "rightsList",
    "descriptions",
    "geoLocations",
    "fundingReferences",
)


def _q(tag: str) -> str:
    return f"{{{DATACITE_NAMESPACE}}}{tag}"


def _attribute_name(key: str) -> str:
    return _XML_LANG if key == "lang" else key


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sub(parent: ET.Element, tag: str, text: Any = None, **attributes: Any) -> ET.Element:
    # Tags stay unqualified while writing: the root declares kernel-4 as the default
    # namespace (ElementTree's default_namespace option rejects unqualified attributes).
    element = ET.SubElement(parent, tag)
    for key, value in attributes.items():
        if value is not None:
            element.set(_attribute_name(key), _text(value))
    if text is not None:
        element.text = _text(text)
    return element


def _items(datacite: Mapping[str, Any], key: str, strings: bool = False) -> list[Any]:
    value = datacite.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidMetadata("must be a list", field=f"datacite.{key}")
    kind, what = (str, "a string") if strings else (Mapping, "an object")
    for index, item in enumerate(value):
        if not isinstance(item, kind):
            raise InvalidMetadata(f"must be {what}", field=f"datacite.{key}.{index}")
    return value


def _person(parent: ET.Element, item: Mapping[str, Any], role: str) -> None:
    """Write the name parts shared by creators and contributors."""
    _sub(parent, f"{role}Name", item.get(f"{role}Name"), nameType=_xml_name_type(item))
    for part in ("givenName", "familyName"):
        if item.get(part):
            _sub(parent, part, item[part])
    for ident in item.get("nameIdentifiers") or []:
        _sub(
            parent,
            "nameIdentifier",
            ident.get("nameIdentifier"),
            nameIdentifierScheme=ident.get("nameIdentifierScheme"),
            schemeURI=ident.get("schemeURI"),
        )
    affiliations = item.get("affiliations") or []
    for affiliation in [affiliations] if isinstance(affiliations, str) else affiliations:
        _sub(parent, "affiliation", affiliation)


def _xml_name_type(item: Mapping[str, Any]) -> str | None:
    # The JSON schema of the original DLHub spells it the British way; the XSD does not
    value = item.get("nameType")
    return "Organizational" if value == "Organisational" else value


def _write_creators(root: ET.Element, datacite: Mapping[str, Any]) -> None:
    wrapper = _sub(root, "creators")
    for index, creator in enumerate(_items(datacite, "creators")):
        if not creator.get("creatorName"):
            raise InvalidMetadata("a creator needs creatorName", field=f"datacite.creators.{index}")
        _person(_sub(wrapper, "creator"), creator, "creator")


def _write_contributors(root: ET.Element, datacite: Mapping[str, Any]) -> None:
    contributors = _items(datacite, "contributors")
    if not contributors:
        return
    wrapper = _sub(root, "contributors")
    for contributor in contributors:
        element = _sub(wrapper, "contributor", contributorType=contributor.get("contributorType"))
        _person(element, contributor, "contributor")


def _write_point(parent: ET.Element, tag: str, point: Mapping[str, Any]) -> None:
    element = _sub(parent, tag)
    for key in _POINT:
        _sub(element, key, point.get(key))


def _write_geolocations(root: ET.Element, datacite: Mapping[str, Any]) -> None:
    locations = _items(datacite, "geoLocations")
    if not locations:
        return
    wrapper = _sub(root, "geoLocations")
    for location in locations:
        element = _sub(wrapper, "geoLocation")
        if location.get("geoLocationPlace") is not None:
            _sub(element, "geoLocationPlace", location["geoLocationPlace"])
        if location.get("geoLocationPoint") is not None:
            _write_point(element, "geoLocationPoint", location["geoLocationPoint"])
        if location.get("geoLocationBox") is not None:
            box = _sub(element, "geoLocationBox")
            for key in _BOX:
                _sub(box, key, location["geoLocationBox"].get(key))
        for polygon in location.get("geoLocationPolygons") or []:
            polygon_element = _sub(element, "geoLocationPolygon")
            for point in polygon.get("polygonPoints") or []:
                _write_point(polygon_element, "polygonPoint", point)
            if polygon.get("inPolygonPoint") is not None:
                _write_point(polygon_element, "inPolygonPoint", polygon["inPolygonPoint"])


def _write_funding(root: ET.Element, datacite: Mapping[str, Any]) -> None:
    references = _items(datacite, "fundingReferences")
    if not references:
        return
    wrapper = _sub(root, "fundingReferences")
    for reference in references:
        element = _sub(wrapper, "fundingReference")
        _sub(element, "funderName", reference.get("funderName"))
        funder = reference.get("funderIdentifier")
        if funder:
            _sub(
                element,
                "funderIdentifier",
                funder.get("funderIdentifier"),
                funderIdentifierType=funder.get("funderIdentifierType"),
            )
        award = reference.get("awardNumber")
        if award:
            _sub(element, "awardNumber", award.get("awardNumber"), awardURI=award.get("awardURI"))
        if reference.get("awardTitle") is not None:
            _sub(element, "awardTitle", reference["awardTitle"])


def _write_text_list(root: ET.Element, datacite: Mapping[str, Any], key: str) -> None:
    items = _items(datacite, key)
    if not items:
        return
    tag, text_key, attribute_keys = _TEXT_LISTS[key]
    wrapper = _sub(root, key)
    for item in items:
        attributes = {a: item.get(a) for a in attribute_keys}
        _sub(wrapper, tag, item.get(text_key), **attributes)


def _check_required(datacite: Mapping[str, Any]) -> None:
    missing = []
    identifier = datacite.get("identifier")
    if not isinstance(identifier, Mapping) or not identifier.get("identifier"):
        missing.append("identifier (call set_doi)")
    if not datacite.get("creators"):
        missing.append("creators (call set_creators)")
    if not datacite.get("titles"):
        missing.append("titles (call set_title)")
    for key in ("publisher", "publicationYear"):
        if not datacite.get(key):
            missing.append(key)
    resource_type = datacite.get("resourceType")
    if not isinstance(resource_type, Mapping) or not resource_type.get("resourceTypeGeneral"):
        missing.append("resourceType.resourceTypeGeneral")
    if missing:
        raise InvalidMetadata(
            f"DataCite XML needs these fields: {', '.join(missing)}", field="datacite"
        )


def datacite_to_xml(datacite_dict: Mapping[str, Any]) -> str:
    """Render a ``datacite`` block as a DataCite kernel-4 XML document.

    Args:
        datacite_dict: The block as JSON data (``model.to_dict()['datacite']``).

    Returns:
        The XML text, with its declaration, in the kernel-4 namespace.

    Raises:
        InvalidMetadata: A field DataCite requires (identifier, creators, titles,
            publisher, publicationYear, resourceType) is missing, or a field has the
            wrong shape; the message names it.
    """
    if not isinstance(datacite_dict, Mapping):
        raise InvalidMetadata(
            f"the datacite block must be a dict, not {type(datacite_dict).__name__}"
        )
    _check_required(datacite_dict)
    root = ET.Element("resource", {"xmlns": DATACITE_NAMESPACE})
    root.set(f"{{{_XSI}}}schemaLocation", f"{DATACITE_NAMESPACE} {DATACITE_SCHEMA_LOCATION}")
    writers: dict[str, Callable[[ET.Element, Mapping[str, Any]], None]] = {
        "creators": _write_creators,
        "contributors": _write_contributors,
        "geoLocations": _write_geolocations,
        "fundingReferences": _write_funding,
    }
    for key in _ORDER:
        if key in writers:
            writers[key](root, datacite_dict)
        elif key in _TEXT_LISTS:
            _write_text_list(root, datacite_dict, key)
        elif key in _STRING_LISTS:
            values = _items(datacite_dict, key, strings=True)
            if values:
                wrapper = _sub(root, key)
                for value in values:
                    _sub(wrapper, _STRING_LISTS[key], value)
        elif key == "identifier":
            identifier = datacite_dict["identifier"]
            _sub(
                root,
                "identifier",
                identifier["identifier"],
                identifierType=identifier.get("identifierType", "DOI"),
            )
        elif key == "resourceType":
            resource_type = datacite_dict["resourceType"]
            _sub(
                root,
                "resourceType",
                resource_type.get("resourceType", ""),
                resourceTypeGeneral=resource_type["resourceTypeGeneral"],
            )
        elif datacite_dict.get(key) is not None:
            _sub(root, key, datacite_dict[key])
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


# ----------------------------------------------------------------------- reading


def _local(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _children(element: ET.Element, tag: str) -> list[ET.Element]:
    return element.findall(_q(tag))


def _attributes(element: ET.Element, keys: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for key in keys:
        value = element.get(_attribute_name(key))
        if value is not None:
            found[key] = value
    return found


def _read_person(element: ET.Element, role: str) -> dict[str, Any]:
    person: dict[str, Any] = {}
    name = element.find(_q(f"{role}Name"))
    if name is not None:
        person[f"{role}Name"] = name.text or ""
        if name.get("nameType"):
            person["nameType"] = name.get("nameType")
    for part in ("givenName", "familyName"):
        child = element.find(_q(part))
        if child is not None:
            person[part] = child.text or ""
    identifiers = [
        {
            "nameIdentifier": child.text or "",
            **_attributes(child, ("nameIdentifierScheme", "schemeURI")),
        }
        for child in _children(element, "nameIdentifier")
    ]
    if identifiers:
        person["nameIdentifiers"] = identifiers
    person["affiliations"] = [child.text or "" for child in _children(element, "affiliation")]
    return person


def _number(element: ET.Element | None) -> float | int | None:
    if element is None or element.text is None:
        return None
    value = float(element.text)
    return int(value) if value.is_integer() and "." not in element.text else value


def _read_point(element: ET.Element) -> dict[str, Any]:
    return {key: _number(element.find(_q(key))) for key in _POINT}


def _read_geolocation(element: ET.Element) -> dict[str, Any]:
    location: dict[str, Any] = {}
    place = element.find(_q("geoLocationPlace"))
    if place is not None:
        location["geoLocationPlace"] = place.text or ""
    point = element.find(_q("geoLocationPoint"))
    if point is not None:
        location["geoLocationPoint"] = _read_point(point)
    box = element.find(_q("geoLocationBox"))
    if box is not None:
        location["geoLocationBox"] = {key: _number(box.find(_q(key))) for key in _BOX}
    polygons = []
    for polygon in _children(element, "geoLocationPolygon"):
        entry: dict[str, Any] = {
            "polygonPoints": [_read_point(p) for p in _children(polygon, "polygonPoint")]
        }
        inside = polygon.find(_q("inPolygonPoint"))
        if inside is not None:
            entry["inPolygonPoint"] = _read_point(inside)
        polygons.append(entry)
    if polygons:
        location["geoLocationPolygons"] = polygons
    return location


def _read_funding(element: ET.Element) -> dict[str, Any]:
    reference: dict[str, Any] = {}
    name = element.find(_q("funderName"))
    reference["funderName"] = (name.text or "") if name is not None else ""
    funder = element.find(_q("funderIdentifier"))
    if funder is not None:
        reference["funderIdentifier"] = {
            "funderIdentifier": funder.text or "",
            **_attributes(funder, ("funderIdentifierType",)),
        }
    award = element.find(_q("awardNumber"))
    if award is not None:
        reference["awardNumber"] = {
            "awardNumber": award.text or "",
            **_attributes(award, ("awardURI",)),
        }
    title = element.find(_q("awardTitle"))
    if title is not None:
        reference["awardTitle"] = title.text or ""
    return reference


def datacite_from_xml(xml: str | bytes) -> dict[str, Any]:
    """Read a DataCite kernel-4 XML document into a ``datacite`` block (JSON data).

    The inverse of :func:`datacite_to_xml`; elements outside the DataCite
    properties the block knows are ignored.

    Raises:
        InvalidMetadata: The text is not XML, or not a kernel-4 ``<resource>``.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InvalidMetadata(f"not valid XML: {exc}") from exc
    if root.tag != _q("resource"):
        raise InvalidMetadata(
            f"expected a DataCite <resource> in the {DATACITE_NAMESPACE} namespace, found {root.tag}"
        )
    block: dict[str, Any] = {}
    for element in root:
        key = _local(element)
        if element.tag != _q(key):
            continue
        if key == "identifier":
            block[key] = {
                "identifier": element.text or "",
                **_attributes(element, ("identifierType",)),
            }
        elif key == "resourceType":
            block[key] = {"resourceTypeGeneral": element.get("resourceTypeGeneral", "")}
            if element.text:
                block[key]["resourceType"] = element.text
        elif key == "creators":
            block[key] = [_read_person(c, "creator") for c in _children(element, "creator")]
        elif key == "contributors":
            block[key] = [
                {**_attributes(c, ("contributorType",)), **_read_person(c, "contributor")}
                for c in _children(element, "contributor")
            ]
        elif key in _TEXT_LISTS:
            tag, text_key, attribute_keys = _TEXT_LISTS[key]
            # a rights statement may be only a URI: an element without text has no text key
            block[key] = [
                {
                    **({} if child.text is None else {text_key: child.text}),
                    **_attributes(child, attribute_keys),
                }
                for child in _children(element, tag)
            ]
        elif key in _STRING_LISTS:
            block[key] = [child.text or "" for child in _children(element, _STRING_LISTS[key])]
        elif key == "geoLocations":
            block[key] = [_read_geolocation(c) for c in _children(element, "geoLocation")]
        elif key == "fundingReferences":
            block[key] = [_read_funding(c) for c in _children(element, "fundingReference")]
        elif key in ("publisher", "publicationYear", "language", "version"):
            block[key] = element.text or ""
    return block
