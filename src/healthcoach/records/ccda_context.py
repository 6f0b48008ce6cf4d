"""The state one C-CDA section's mappers share, and how they build a Record (stable id, dates, source)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from healthcoach.records import ccda_types as ct
from healthcoach.records.ccda_types import q
from healthcoach.records.models import Category, Record, Source, record_id


class Skip(Exception):
    """A unit that cannot become a record; the message is the counted reason, starting with its category."""


@dataclass
class SectionContext:
    """What the mappers of one section need: who, which file, the narrative to resolve references in."""

    user_id: str
    file: str
    doc_key: str
    organization: str | None
    title: str
    refs: dict[str, str]
    doc_when: ct.When | None
    used_ids: set[str]
    index: int
    bad_dates: int = 0
    section_roots: set[str] = field(default_factory=set)

    def unique_id(self, local: str) -> str:
        """A resource id unique within the document (example documents often reuse one id)."""
        base = f"{self.doc_key}/{local}"
        rid, n = base, 1
        while rid in self.used_ids:
            n += 1
            rid = f"{base}#{n}"
        self.used_ids.add(rid)
        return rid

    def entry_id(self, elem: Element, position: str) -> str:
        """The act's own id (root:extension) when it has one, else its position in the document."""
        for i in elem.findall(q("id")):
            if i.get("root") and not i.get("nullFlavor"):
                return self.unique_id(f"{i.get('root')}:{i.get('extension', '')}".rstrip(":"))
        return self.unique_id(position)

    def record(self, elem: Element, position: str, resource_type: str, category: Category, label: str | None,
               when: tuple[ct.When | None, ct.When | None, bool], **kw: Any) -> Record:
        """A Record for one unit, with its stable id, dates (precision kept) and source."""
        if not label:
            raise Skip(f"{category}: no code or text to say what it is")
        start, end, bad = when
        self.bad_dates += bad
        details = {k: str(v) for k, v in (kw.pop("details", None) or {}).items() if v not in (None, "")}
        if start and start.precision in ("year", "month"):
            details["date_precision"] = start.precision
        rid = self.entry_id(elem, position)
        return Record(
            id=record_id(self.user_id, "ccda", resource_type, rid), user_id=self.user_id, category=category,
            label=label, start=start.at if start else None, end=end.at if end else None,
            date=start.day if start else None, details=details,
            source=Source(kind="ccda", organization=self.organization, file=self.file,
                          resource_type=resource_type, resource_id=rid),
            **kw,
        )


def display_name(elem: Element | None) -> str | None:
    """The displayName of a coded element, if any."""
    return elem.get("displayName") if elem is not None else None


def status_code(elem: Element) -> str | None:
    """statusCode/@code of an act."""
    sc = elem.find(q("statusCode"))
    return sc.get("code") if sc is not None else None


def negated(elem: Element) -> bool:
    """negationInd="true": the act did not happen (a refused vaccine, 'no known allergies')."""
    return elem.get("negationInd") == "true"


def related_values(elem: Element, ctx: SectionContext, templates: set[str]) -> list[str]:
    """Values of the related observations with these templates (reactions, statuses, severities)."""
    out = []
    for rel in elem.findall(q("entryRelationship/observation")):
        if ct.template_ids(rel) & templates:
            v = ct.value(rel.find(q("value")), ctx.refs)
            if v.text:
                out.append(v.text)
    return out
