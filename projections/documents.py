"""Pure functions from an entity's state to the documents the indexes hold.

- `sharing_document`: the agency view — unmasked, every record, former names, history; each
  penalty carrying its publicity period and the rule set that gave it (`publicity`); each record
  and history entry its provenance where known (`signing_key_id`, `principal`: which key signed
  the publication and who acted), and `registered_by` the registration's.
- `public_document`: the public view as stored — natural persons masked, revoked penalties and
  unpublicised annual-report fields removed, each penalty carrying its publicity period; no
  provenance (a principal may name an official or a key).
- `public_view`: the public document as of a date — penalties outside their window removed.
- `record_rows`: one row per publicised record, for the department publicity pages.
- `search_fields`: the text the search index matches on (names, former names, codes, pinyin).
- `filter_values`: the value of each field search is narrowed by (`FILTER_FIELDS`).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from adapters.search_index.base import FILTER_FIELDS
from domain import names
from domain.annual_report import public_report
from domain.entity import PROVENANCE_FIELDS, MarketEntity
from domain.kinds import CATEGORIES, SECTIONS
from domain.masking import mask_person
from domain.publicity import (
    PenaltyFacts,
    PublicityPeriod,
    PublicityPolicy,
    default_policy,
    is_penalty_public,
    publicity_period,
)
from domain.uscc import USCC

#: The categories of publicised records (`record_rows`), from the table of kinds.
RECORD_CATEGORIES: tuple[str, ...] = tuple(c.key for c in CATEGORIES)
_SECTION_FIELDS: dict[str, str | None] = {s.key: s.field for s in SECTIONS}
PERSON_FIELDS = ("legal_representative",)
#: Registration fields holding lists of persons (shareholders may be organisations: their USCC is
#: kept, a natural person's identity number, phone and address are masked).
PERSON_LIST_FIELDS = ("shareholders", "key_staff")


def _mask_people(value: Any) -> Any:
    if isinstance(value, dict):
        return mask_person(value)
    if isinstance(value, list):
        return [mask_person(v) if isinstance(v, dict) else v for v in value]
    return value


@lru_cache(maxsize=65536)
def _district(uscc: str) -> tuple[str, str | None]:
    """The division code and district name of a (stored, valid) USCC: parsed once per entity."""
    parsed = USCC.parse(uscc)
    return parsed.region_code, parsed.district_name


def penalty_publicity(penalty: dict[str, Any], policy: PublicityPolicy) -> dict[str, Any]:
    """A penalty's publicity period as the documents carry it: the window, and the rule set that
    gave it by code and name."""
    period = publicity_period(PenaltyFacts.of(penalty), policy)
    repaired = penalty.get("repaired")
    return {
        "rule_set": period.rule_set,
        "rule_set_name": period.rule_set_name,
        "counts_from": period.counts_from,
        "penalty_class": period.penalty_class,
        "publicised": period.publicised,
        "starts_on": period.starts_on.isoformat(),
        "earliest_repair_on": period.earliest_repair_on.isoformat() if period.earliest_repair_on else None,
        "ends_on": period.ends_on.isoformat() if period.ends_on else None,
        "repaired_on": repaired["on"] if repaired else None,
    }


def sharing_document(entity: MarketEntity, policy: PublicityPolicy | None = None) -> dict[str, Any]:
    """`policy`: the publicity rules' settings (default: the shipped departments, default settings)."""
    policy = policy or default_policy()
    district_code, district_name = _district(entity.uscc)
    doc: dict[str, Any] = {
        "uscc": entity.uscc,
        "version": entity.version,
        "name": entity.name,
        "former_names": list(entity.former_names),
        "registration_number": entity.registration_number,
        "status": entity.status,
        "status_history": list(entity.status_history),
        "district_code": district_code,
        "district_name": district_name,
        "registration": dict(entity.registration),
        "registered_by": dict(entity.registered_by),
    }
    for section in SECTIONS:  # the record's sections, in order: each is an attribute of the entity
        if section.field:
            items = getattr(entity, section.field)
            doc[section.field] = list(items.values() if isinstance(items, dict) else items)
    doc["penalties"] = [{**p, "publicity": penalty_publicity(p, policy)} for p in doc["penalties"]]
    doc["annual_reports"] = [entity.annual_reports[y] for y in sorted(entity.annual_reports, key=int)]
    doc["repairs"] = list(entity.repairs)
    doc["objections"] = list(entity.objections.values())
    doc["applications"] = list(entity.applications.values())
    doc["last_occurred_on"] = entity.last_occurred_on.isoformat()
    return doc


def _mask_change(change: dict[str, Any]) -> dict[str, Any]:
    masked = dict(change)
    masked["changes"] = [
        {**c, **{k: _mask_people(c[k]) for k in ("before", "after") if isinstance(c.get(k), dict | list)}}
        if c.get("field") in PERSON_FIELDS + PERSON_LIST_FIELDS
        else c
        for c in change.get("changes", [])
    ]
    return masked


def _public_penalty(penalty: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in penalty.items() if k not in ("revoked", "repaired", "history")},
        "amendments": [h for h in penalty.get("history", []) if h.get("change") == "变更"],
    }


def _public_annual_report(report: dict[str, Any], natural_person: bool) -> dict[str, Any]:
    """The report as the public sees it (`domain.annual_report.public_report`), and so each
    version a correction replaced (Art. 12: both are shown, each under its own choices)."""
    shown = public_report(report, natural_person=natural_person)
    shown["corrections"] = [
        {**c, "replaced": public_report(c["replaced"], natural_person=natural_person)}
        if isinstance(c.get("replaced"), dict)
        else c
        for c in report.get("corrections", [])
    ]
    return shown


def is_natural_person(registration: dict[str, Any]) -> bool:
    """A 个体工商户: its contact details are a natural person's (masked in public view)."""
    return "个体" in str(registration.get("entity_type") or "")


def _without_provenance(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_provenance(v) for k, v in value.items() if k not in PROVENANCE_FIELDS}
    if isinstance(value, list):
        return [_without_provenance(v) for v in value]
    return value


def public_document(sharing: dict[str, Any]) -> dict[str, Any]:
    """The masked public document stored in the public index (not yet filtered by date)."""
    sharing = _without_provenance(sharing)
    registration = dict(sharing["registration"])
    for key in PERSON_FIELDS + PERSON_LIST_FIELDS:
        if isinstance(registration.get(key), dict | list):
            registration[key] = _mask_people(registration[key])
    doc: dict[str, Any] = {
        "uscc": sharing["uscc"],
        "version": sharing["version"],
        "name": sharing["name"],
        "former_names": sharing["former_names"],
        "registration_number": sharing["registration_number"],
        "status": sharing["status"],
        "status_history": sharing["status_history"],
        "district_code": sharing["district_code"],
        "district_name": sharing["district_name"],
        "registration": registration,
    }
    for section in SECTIONS:  # shown as shared unless one of the lines below says otherwise
        if section.field:
            doc[section.field] = sharing[section.field]
    doc["changes"] = [_mask_change(c) for c in sharing["changes"]]
    doc["licences"] = [{k: v for k, v in lic.items()} for lic in sharing["licences"]]
    doc["penalties"] = [_public_penalty(p) for p in sharing["penalties"] if not p.get("revoked")]
    _mark_objections(doc, sharing.get("objections", []))
    natural = is_natural_person(sharing["registration"])
    doc["annual_reports"] = [_public_annual_report(r, natural) for r in sharing["annual_reports"]]
    return doc


#: Where each kind of record an objection names is kept, and the key of its number.
_OBJECTION_TARGETS: dict[str, tuple[str, str]] = {
    "penalty": ("penalties", "decision_no"),
    "abnormal": ("abnormal_listings", "decision_no"),
    "serious": ("serious_listings", "decision_no"),
    "licence": ("licences", "licence_no"),
    "filing": ("filings", "filing_no"),
    "inspection": ("inspections", "inspection_no"),
}
UNDER_OBJECTION = "异议处理中"


def _mark_objections(doc: dict[str, Any], objections: list[dict[str, Any]]) -> None:
    """A record with an objection not yet answered shows as 异议处理中 (`objection` on the record:
    the label and when it was filed — never the enterprise's reasons)."""
    for objection in objections:
        if objection.get("resolution") is not None or objection.get("target") not in _OBJECTION_TARGETS:
            continue
        field, key = _OBJECTION_TARGETS[objection["target"]]
        doc[field] = [
            {**item, "objection": {"status": UNDER_OBJECTION, "filed_on": objection.get("occurred_on")}}
            if item.get(key) == objection.get("record_no")
            else item
            for item in doc[field]
        ]


def penalty_is_public(penalty: dict[str, Any], today: date) -> bool:
    """Whether a document's penalty is public on `today`, by the period its document carries."""
    pub = penalty["publicity"]
    period = PublicityPeriod(
        rule_set=pub["rule_set"],
        publicised=pub["publicised"],
        starts_on=date.fromisoformat(pub["starts_on"]),
        earliest_repair_on=None,
        ends_on=date.fromisoformat(pub["ends_on"]) if pub.get("ends_on") else None,
    )
    repaired_on = date.fromisoformat(pub["repaired_on"]) if pub.get("repaired_on") else None
    return is_penalty_public(period, today, repaired_on=repaired_on)


def public_view(doc: dict[str, Any], today: date) -> dict[str, Any]:
    """The public record as of `today`: penalties outside their publicity window are hidden."""
    view = dict(doc)
    view["penalties"] = [p for p in doc["penalties"] if penalty_is_public(p, today)]
    view["flags"] = flags(view, today)
    view["as_of"] = today.isoformat()
    return view


def flags(doc: dict[str, Any], today: date) -> list[str]:
    out = []
    if any(item.get("removed") is None for item in doc["abnormal_listings"]):
        out.append("abnormal")
    if any(item.get("removed") is None for item in doc["serious_listings"]):
        out.append("serious")
    if any(penalty_is_public(p, today) for p in doc["penalties"]):
        out.append("penalty")
    return out


def summary(doc: dict[str, Any], today: date) -> dict[str, Any]:
    """One search result item."""
    rep = doc["registration"].get("legal_representative") or {}
    return {
        "uscc": doc["uscc"],
        "name": doc["name"],
        "former_names": [f["name"] for f in doc["former_names"]],
        "status": doc["status"],
        "legal_representative": rep.get("name"),
        "established_on": doc["registration"].get("established_on"),
        "entity_type": doc["registration"].get("entity_type"),
        "district_name": doc.get("district_name"),
        "flags": flags(doc, today),
    }


def _row(
    category: str,
    item: dict[str, Any],
    doc: dict[str, Any],
    record_id: str,
    title: str,
    on: str,
    until: str | None = None,
) -> dict[str, Any]:
    return {
        "category": category,
        "record_id": record_id,
        "publication_id": item.get("publication_id"),
        "department": item.get("department"),
        "uscc": doc["uscc"],
        "entity_name": doc["name"],
        "title": title,
        "occurred_on": on,
        "public_until": until,
        "detail": item,
    }


def record_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The public document's publicised records, one row each (penalties keep `public_until`)."""
    rows = []
    for p in doc["penalties"]:
        if p["publicity"]["publicised"]:
            until = p["publicity"]["repaired_on"] or p["publicity"]["ends_on"]
            rows.append(_row("penalty", p, doc, p["decision_no"], p["violation"], p["decided_on"], until))
    for lic in doc["licences"]:
        rows.append(_row("licence", lic, doc, lic["licence_no"], lic["licence_name"], lic["occurred_on"]))
    for category, listings in (("abnormal", doc["abnormal_listings"]), ("serious", doc["serious_listings"])):
        for listing in listings:
            rows.append(
                _row(category, listing, doc, listing["decision_no"], listing["reason"], listing["listed_on"])
            )
            warning = listing.get("warning") if category == "abnormal" else None
            if warning:
                rows.append(
                    _row(
                        f"{category}_warning",
                        {**listing, **warning},
                        doc,
                        listing["decision_no"],
                        warning["content"],
                        warning["on"],
                    )
                )
            removed = listing.get("removed")
            if removed:
                rows.append(
                    _row(
                        f"{category}_removed",
                        {**listing, **removed},
                        doc,
                        listing["decision_no"],
                        removed["reason"],
                        removed["on"],
                    )
                )
    for cat in CATEGORIES:  # the categories listing a plain section's items, one row each
        field = _SECTION_FIELDS[cat.section]
        if cat.record_id and field:
            for item in doc[field]:
                record_id, title = cat.record_id.format_map(item), cat.title.format_map(item)
                rows.append(_row(cat.key, item, doc, record_id, title, item["occurred_on"]))
    return rows


def row_is_public(row: dict[str, Any], today: date) -> bool:
    until = row.get("public_until")
    return until is None or today < date.fromisoformat(until)


def syllables(name: str) -> tuple[str, ...]:
    """Pinyin syllables of `name` (one cached pypinyin pass per name, shared with the search
    text: names are converted again at every version)."""
    return tuple(p for p, _, _, _ in names.pinyin_items(name))


def initial_letters(name: str) -> tuple[str, ...]:
    return tuple(i for _, i, _, _ in names.pinyin_items(name))


def search_fields(doc: dict[str, Any]) -> dict[str, str]:
    """Text the search index matches: names, former names, codes, representative, pinyin, and
    the canonical forms (legal forms normalised), cores and fuzzy grams of the names."""
    written = [doc["name"], *(f["name"] for f in doc["former_names"])]
    rep = doc["registration"].get("legal_representative") or {}
    full = " ".join("".join(syllables(n)) for n in written)
    spaced = " ".join(" ".join(syllables(n)) for n in written)
    initials = " ".join("".join(initial_letters(n)) for n in written)
    return {
        "name": doc["name"],
        "former_names": " ".join(written[1:]),
        "codes": " ".join(c for c in (doc["uscc"], doc.get("registration_number")) if c),
        "person": rep.get("name") or "",
        "pinyin": f"{full} {spaced} {initials}".lower(),
        "name_canonical": names.canonical(doc["name"]),
        "former_canonical": " ".join(names.canonical(n) for n in written[1:]),
        "name_core": names.core(doc["name"]),
        "former_core": " ".join(names.core(n) for n in written[1:]),
        "grams": " ".join(names.name_grams(written)),
    }


def filter_values(doc: dict[str, Any]) -> dict[str, str | None]:
    """The value of each field search is narrowed by (`FILTER_FIELDS`, by name), from a public
    document; `flags` are apart (`flags`: they change with the date)."""
    registration = doc["registration"]
    values = {
        "status": doc.get("status"),
        "district_code": doc.get("district_code"),
        "entity_type": registration.get("entity_type"),
        "industry": registration.get("industry"),
        "established_on": registration.get("established_on"),
    }
    return {f.name: values[f.name] for f in FILTER_FIELDS}


def penalty_windows(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    """[starts_on, ends_on) of each publicised penalty of a public document (ends_on None: no
    end), cut short by an approved credit repair."""
    windows: list[tuple[str, str | None]] = []
    for p in doc["penalties"]:
        pub = p["publicity"]
        if not pub["publicised"]:
            continue
        ends = [d for d in (pub.get("ends_on"), pub.get("repaired_on")) if d]
        windows.append((pub["starts_on"], min(ends) if ends else None))
    return windows
