"""Open311 GeoReport v2 documents (read side) as JSON-ready dicts and as XML (no Flask here).

Field names, the JSON arrays and the XML shapes follow http://wiki.open311.org/GeoReport_v2: `<services>` of
`<service>`, `<service_requests>` of `<request>`, `<errors>` of `<error>`, and the service discovery document.
Instants are ISO 8601 with the governorate's offset. An absent value is null in JSON and no element in XML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from xml.etree import ElementTree as ET  # noqa: S405 - only builds documents, never parses input
from zoneinfo import ZoneInfo

from majlis.open311.services import PublicCase, PublicService

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("text/xml", "application/json")
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "lat", "long")
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")


def _instant(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value is not None else None


def service_document(service: PublicService, *, lang: str) -> dict:
    name = service.name_en if lang == "en" else service.name_ar
    group = service.body_name_en if lang == "en" else service.body_name_ar
    return {"service_code": service.code, "service_name": name, "description": name, "metadata": False,
            "type": "realtime", "keywords": service.code.replace("-", ", "), "group": group}


def request_document(case: PublicCase, *, lang: str, zone: ZoneInfo, status_notes: str) -> dict:
    """One service request: the area as its address, the place only when the resident agreed to publish it."""
    english = lang == "en"
    area = case.area_name_en if english else case.area_name_ar
    expected = datetime.combine(case.due_on, time(23, 59, 59), tzinfo=zone)
    return {
        "service_request_id": str(case.id),
        "status": "open" if case.is_open else "closed",
        "status_notes": status_notes,
        "service_name": case.service_name_en if english else case.service_name_ar,
        "service_code": case.service_code,
        "agency_responsible": case.body_name_en if english else case.body_name_ar,
        "service_notice": None,
        "requested_datetime": _instant(case.opened_at, zone),
        "updated_datetime": _instant(case.resolved_at or case.updated_at, zone),
        "expected_datetime": expected.isoformat(timespec="seconds"),
        "address": case.place_address or area,
        "lat": case.latitude,
        "long": case.longitude,
    }


def discovery_document(*, base_url: str, changeset: datetime, contact: str) -> dict:
    return {
        "changeset": changeset.isoformat(timespec="seconds"),
        "contact": contact,
        "key_service": "No key is needed: the GeoReport v2 interface is read-only and public.",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base_url}/open311/v2",
                       "changeset": changeset.isoformat(timespec="seconds"), "type": "production",
                       "formats": list(FORMATS)}],
    }


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value) -> None:
    if value is None:
        return
    child = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(child, key, item)
    elif isinstance(value, list | tuple):
        singular = tag[:-1] if tag.endswith("s") else "item"
        for item in value:
            _append(child, singular, item)
    else:
        child.text = _text(value)


def to_xml(root: str, item: str | None, content: Iterable[Mapping] | Mapping) -> str:
    """A GeoReport XML document: a root of items (`<services><service>...`), or a root of fields."""
    element = ET.Element(root)
    if item is None:
        for key, value in dict(content).items():
            _append(element, key, value)
    else:
        for entry in content:
            _append(element, item, entry)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode") + "\n"


def errors_document(status: int, description: str) -> list[dict]:
    return [{"code": status, "description": description}]
