"""Translate a CodeMeta (codemeta.json) record into DataCite fields."""

from __future__ import annotations

from typing import Any


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _affiliations(person: dict[str, Any]) -> list[str]:
    names = []
    for org in _as_list(person.get("affiliation")):
        name = org.get("name") if isinstance(org, dict) else org
        if name:
            names.append(str(name))
    return names


def _creator(person: Any) -> dict[str, Any] | None:
    if isinstance(person, str):
        return {"creatorName": person}
    if not isinstance(person, dict):
        return None
    family, given = person.get("familyName"), person.get("givenName")
    if family and given:
        creator: dict[str, Any] = {
            "creatorName": f"{family}, {given}",
            "familyName": family,
            "givenName": given,
        }
    elif person.get("name"):
        creator = {"creatorName": person["name"]}
    else:
        return None
    creator["affiliations"] = _affiliations(person)
    if person.get("@id"):
        creator["nameIdentifiers"] = [
            {"nameIdentifier": person["@id"], "nameIdentifierScheme": "ORCID"}
        ]
    return creator


def codemeta_to_datacite(codemeta: dict[str, Any]) -> dict[str, Any]:
    """DataCite fields (as JSON) found in a CodeMeta record; absent fields are left out."""
    out: dict[str, Any] = {}
    creators = [c for c in map(_creator, _as_list(codemeta.get("author"))) if c]
    if creators:
        out["creators"] = creators
    if codemeta.get("name"):
        out["titles"] = [{"title": str(codemeta["name"])}]
    if codemeta.get("description"):
        out["descriptions"] = [
            {"description": str(codemeta["description"]), "descriptionType": "Abstract"}
        ]
    if codemeta.get("version"):
        out["version"] = str(codemeta["version"])
    licenses = _as_list(codemeta.get("license"))
    if licenses:
        out["rightsList"] = [{"rightsURI": str(lic)} for lic in licenses]
    keywords = _as_list(codemeta.get("keywords"))
    if keywords:
        out["subjects"] = [{"subject": str(k)} for k in keywords]
    identifier = codemeta.get("identifier")
    if isinstance(identifier, str) and "10." in identifier:
        doi = identifier[identifier.index("10.") :]
        out["identifier"] = {"identifier": doi, "identifierType": "DOI"}
    related = []
    for key, relation in (
        ("codeRepository", "IsDerivedFrom"),
        ("referencePublication", "IsDescribedBy"),
    ):
        for value in _as_list(codemeta.get(key)):
            if isinstance(value, dict):
                value = value.get("@id") or value.get("url")
            if value:
                kind = "DOI" if str(value).startswith("10.") else "URL"
                related.append(
                    {
                        "relatedIdentifier": str(value),
                        "relatedIdentifierType": kind,
                        "relationType": relation,
                    }
                )
    if related:
        out["relatedIdentifiers"] = related
    return out
