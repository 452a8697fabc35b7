"""Following one entity without a key: `/entity/{uscc}/feed.atom` (api/web/feed.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from domain.masking import contains_unmasked_resident_id
from tests.builders import uscc_for
from tests.e2e.conftest import TODAY, Platform, registered

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(platform: Platform, uscc: str) -> ET.Element:
    response = platform.client.get(f"/entity/{uscc}/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert not contains_unmasked_resident_id(response.text)
    return ET.fromstring(response.content)


def penalties(platform: Platform) -> list[dict]:
    return [e for e in platform.envelopes if e["kind"] == "penalty.imposed"]


def test_the_feed_lists_the_public_record_newest_first_with_links_back(platform: Platform) -> None:
    for reg in registered(platform)[:40]:
        uscc = reg["uscc"]
        root = feed(platform, uscc)
        assert root.tag == f"{ATOM}feed"
        assert root.findtext(f"{ATOM}id") == f"tag:gongshi,2026:entity/{uscc}"
        view = platform.client.get(f"/api/v1/entities/{uscc}").json()
        assert view["name"] in (root.findtext(f"{ATOM}title") or "")
        entries = root.findall(f"{ATOM}entry")
        assert entries, uscc  # every entity has at least its registration
        updated = [e.findtext(f"{ATOM}updated") or "" for e in entries]
        assert updated == sorted(updated, reverse=True)
        assert root.findtext(f"{ATOM}updated") == updated[0]
        assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
        public_url = platform.container.settings.base_url
        for entry in entries:
            link = entry.find(f"{ATOM}link")
            assert link is not None and link.get("href", "").startswith(f"{public_url}/entity/{uscc}?tab=")
        rep = reg["payload"]["legal_representative"]
        text = ET.tostring(root, encoding="unicode")
        assert rep["id_number"] not in text and rep.get("phone", "-") not in text


def test_a_penalty_is_an_entry_only_inside_its_publicity_window(platform: Platform) -> None:
    public, hidden = 0, 0
    for envelope in penalties(platform):
        uscc, number = envelope["uscc"], envelope["payload"]["decision_no"]
        shown = {
            p["decision_no"] for p in platform.client.get(f"/api/v1/entities/{uscc}").json()["penalties"]
        }
        titles = " ".join(
            e.findtext(f"{ATOM}title") or "" for e in feed(platform, uscc).findall(f"{ATOM}entry")
        )
        assert (number in titles) == (number in shown), (uscc, number)
        public, hidden = public + (number in shown), hidden + (number not in shown)
    assert public and hidden  # both kinds are in the generated register


def test_the_entity_page_links_to_its_feed_and_unknown_codes_are_refused(platform: Platform) -> None:
    uscc = registered(platform)[0]["uscc"]
    page = platform.client.get(f"/entity/{uscc}").text
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert f'href="/entity/{uscc}/feed.atom"' in page
    wrong = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    assert platform.client.get(f"/entity/{wrong}/feed.atom").status_code == 422
    assert platform.client.get(f"/entity/{uscc_for(999)}/feed.atom").status_code == 404
    assert TODAY.isoformat() in feed(platform, uscc).findtext(f"{ATOM}subtitle", "")
