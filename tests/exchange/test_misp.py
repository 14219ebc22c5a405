"""MISP import and export, with pymisp as the peer: what one side writes the other reads back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent

from scamwall.errors import InvalidIndicator, PayloadTooLarge, UsageError
from scamwall.exchange.misp import (
    MISP_NAMESPACE,
    MispImportOptions,
    agencies_by_org,
    export_misp_event,
    import_misp_events,
    import_misp_feed,
    import_misp_file,
    import_misp_json,
    misp_org_uuid,
)
from scamwall.indicators import parse_indicator
from scamwall.store import Agency, Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "misp_event_mm_scam_compound.json"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
TH = Agency(1, "TH-CCIB", "Cyber Crime Investigation Bureau", "TH", AgencyKind.POLICE)
MM = Agency(2, "MM-CCD", "Cyber Crime Division", "MM", AgencyKind.POLICE)
PEER = Agency(3, "PEER", "Unmapped MISP peers", "TH", AgencyKind.CERT)

# One value of every kind, as an agency would report it; (value, kind or None to guess).
VALUES = [
    ("+66 81 234 5678", None),
    ("kbank", "sms_sender"),
    ("https://pay.scam-bank.co.th/login?next=%2Fotp", None),
    ("scam-bank.co.th", "domain"),
    ("203.0.113.7", None),
    ("198.51.100.0/24", None),
    ("boss@scam-bank.co.th", None),
    ("TH:KBANK:123-4-56789-0", None),
    ("TH:KASITHBK:9876543210", None),
    ("GB82 WEST 1234 5698 7654 32", None),
    ("0xde709f2102306220921060314715629080e2fb77", None),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", None),
    ("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", None),
    ("telegram:@scam_support", None),
    ("https://t.me/+AbCdEfGhIjKlMnOp", None),
    ("line:@invest.guru", None),
    ("whatsapp:+66812345679", None),
    ("c3fe61e6156e14753e4f4e06789c0f72a4f7c6fc2f244771c3a839d234fbe4ae", None),
]


def _sightings(tlps: list[Tlp] | None = None) -> list[Sighting]:
    cycle = tlps or [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]
    return [
        Sighting(
            indicator=parse_indicator(value, kind, "TH"),
            agency=TH,
            observed_at=datetime(2026, 10, 1, 8, 15, 30, 250_000, tzinfo=UTC) + timedelta(hours=i),
            source_kind=SourceKind.POLICE_CASE,
            confidence=75,
            tlp=cycle[i % len(cycle)],
            note=f"case 2026/{i}" if i % 2 else None,
        )
        for i, (value, kind) in enumerate(VALUES)
    ]


def _facts(sightings: Any) -> set[tuple[str, str, Tlp, datetime, str | None]]:
    return {
        (s.indicator.kind.value, s.indicator.canonical, s.tlp, s.observed_at, s.note)
        for s in sightings
    }


def _event(*attributes: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "uuid": "9e1c2d3b-4a5f-4e6d-8c7b-6a5f4e3d2c1b",
        "info": "test event",
        "date": "2026-10-20",
        "Orgc": {"name": "MM-CCD", "uuid": str(uuid.UUID(int=7))},
        "Attribute": list(attributes),
    }
    return {"Event": body | fields}


def _attribute(n: int, type_: str, value: Any, **fields: Any) -> dict[str, Any]:
    return {"uuid": str(uuid.UUID(int=n)), "type": type_, "value": value} | fields


GOOD = _attribute(1, "domain", "usdt-invest-pro.top", timestamp="1792454400")


# ---------------------------------------------------------------------------------- round trip


def test_round_trip_gives_back_indicators_markings_times_and_notes() -> None:
    sightings = _sightings()
    exported = export_misp_event(sightings, info="Scam infrastructure, October", agency=TH)

    imported = import_misp_json(exported.to_json(), PEER, now=NOW)

    assert imported.rejects == ()
    assert _facts(imported.facts) == _facts(sightings)
    assert {f.agency for f in imported.facts} == {PEER}
    assert {f.confidence for f in imported.facts} == {75}
    assert all(
        f.evidence_ref and f.evidence_ref.startswith(f"misp:{exported.event.uuid}/")
        for f in imported.facts
    )


def test_a_pymisp_peer_reads_the_export_with_templates_and_tags() -> None:
    exported = export_misp_event(_sightings(), info="Scam infrastructure", agency=TH)

    peer = MISPEvent()
    peer.load(exported.to_json())

    assert peer.Orgc.uuid == misp_org_uuid("TH-CCIB")
    templates = sorted({obj.name for obj in peer.objects})
    assert templates == [
        "bank-account",
        "coin-address",
        "phone-number",
        "short-message-service",
        "telegram-account",
        "user-account",
    ]
    assert sorted({a.type for a in peer.attributes}) == [
        "domain",
        "email-src",
        "ip-dst",
        "sha256",
        "url",
    ]
    event_tags = {t.name for t in peer.tags}
    assert {"tlp:amber", 'circl:incident-classification="scam"'} <= event_tags
    phone = next(o for o in peer.objects if o.name == "phone-number").attributes[0]
    assert {t.name for t in phone.tags} == {
        "tlp:clear",
        'misp:confidence-level="usually-confident"',
        'gsma-fraud:business="social-engineering"',
    }
    symbols = {a.value for o in peer.objects for a in o.attributes if a.object_relation == "symbol"}
    assert symbols == {"ETH", "BTC", "TRX"}


def test_re_export_is_byte_identical_and_uuids_derive_from_sighting_ids() -> None:
    sightings = _sightings()
    first = export_misp_event(sightings, info="October", agency=TH).to_json()
    again = export_misp_event(list(reversed(sightings)), info="October", agency=TH).to_json()

    assert first == again
    ids = {s.id for s in sightings}
    assert len(ids) == len(sightings)
    other = export_misp_event(sightings[:-1], info="October", agency=TH)
    assert other.event.uuid != json.loads(first)["Event"]["uuid"]


def test_red_never_leaves_and_amber_strict_only_when_allowed() -> None:
    sightings = _sightings([Tlp.RED, Tlp.AMBER_STRICT, Tlp.GREEN])
    red = {s.id for s in sightings if s.tlp is Tlp.RED}
    strict = {s.id for s in sightings if s.tlp is Tlp.AMBER_STRICT}

    default = export_misp_event(sightings, info="x", agency=TH)
    assert set(default.refused) == red | strict
    text = default.to_json()
    for sighting in sightings:
        attribute_uuid = uuid.uuid5(MISP_NAMESPACE, sighting.id)
        assert (str(attribute_uuid) in text) is (sighting.id not in red | strict)
    back = import_misp_json(text, PEER, now=NOW).facts
    assert _facts(back) == _facts(s for s in sightings if s.tlp is Tlp.GREEN)
    assert "tlp:red" not in text
    assert "amber+strict" not in text

    widened = export_misp_event(
        sightings, info="x", agency=TH, allow=frozenset({Tlp.GREEN, Tlp.AMBER_STRICT})
    )
    assert set(widened.refused) == red
    assert "tlp:amber+strict" in widened.to_json()
    with pytest.raises(UsageError, match="RED never leaves"):
        export_misp_event(sightings, info="x", agency=TH, allow=frozenset(Tlp))


def test_enforcement_receipts_stay_home() -> None:
    # "blocked at a resolver, N hits" is no report of fraud: a peer would read it as one
    sightings = _sightings()
    receipt = replace(sightings[0], source_kind=SourceKind.ENFORCEMENT_RECEIPT)
    exported = export_misp_event([receipt, *sightings[1:]], info="x", agency=TH)
    assert exported.receipts == (receipt.id,)
    assert receipt.id not in exported.exported
    assert str(uuid.uuid5(MISP_NAMESPACE, receipt.id)) not in exported.to_json()
    assert len(exported.exported) == len(sightings) - 1


# ------------------------------------------------------------------------------ realistic import


def test_realistic_event_with_objects_and_tags() -> None:
    result = import_misp_file(FIXTURE, MM, now=NOW)

    facts = {(f.indicator.kind.value, f.indicator.canonical): f for f in result.facts}
    assert set(facts) == {
        ("phone", "+959421234567"),
        ("url", "https://usdt-invest-pro.top/login?ref=77"),
        ("domain", "usdt-invest-pro.top"),
        ("ip", "203.0.113.45"),
        ("cidr", "198.51.100.0/24"),
        ("handle", "telegram:usdt_support_vip"),
        ("file_hash", "c3fe61e6156e14753e4f4e06789c0f72a4f7c6fc2f244771c3a839d234fbe4ae"),
        ("phone", "+959421234568"),  # a local number, read with the agency's region
        ("bank_account", "TH:KASITHBK:1234567890"),  # country from the BIC
        ("crypto_wallet", "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"),
        ("email", "support@usdt-invest-pro.top"),  # the sender; the victim (to) is not read
        ("sms_sender", "kbank"),
        ("handle", "telegram:goldenharvest_admin"),
    }
    phone = facts[("phone", "+959421234567")]
    assert phone.tlp is Tlp.GREEN  # the attribute's tag wins over the event's AMBER
    assert phone.observed_at == datetime(2026, 10, 12, 3, 0, tzinfo=UTC)  # first_seen, +06:30
    assert phone.note == "called victims as a 'customer service agent'"
    assert phone.evidence_ref == (
        "misp:5c6a1f2e-8b3d-4e7a-9f01-2d3c4b5a6e70/a0000001-0000-4000-8000-000000000001"
    )
    assert phone.source_kind is SourceKind.PARTNER_FEED
    assert facts[("url", "https://usdt-invest-pro.top/login?ref=77")].tlp is Tlp.AMBER
    assert facts[("domain", "usdt-invest-pro.top")].observed_at == datetime(
        2026, 10, 20, tzinfo=UTC
    )
    assert (
        facts[("file_hash", "c3fe61e6156e14753e4f4e06789c0f72a4f7c6fc2f244771c3a839d234fbe4ae")].tlp
        is Tlp.CLEAR
    )
    assert facts[("bank_account", "TH:KASITHBK:1234567890")].tlp is Tlp.AMBER_STRICT
    assert facts[("phone", "+959421234568")].observed_at == datetime(2026, 10, 14, 2, tzinfo=UTC)
    # the event's confidence tag, unless the attribute has its own
    assert phone.confidence == 75
    assert facts[("cidr", "198.51.100.0/24")].confidence == 68
    # to_ids false still imports (phone numbers, handles)
    assert ("handle", "telegram:usdt_support_vip") in facts

    assert sorted((r.place, r.field) for r in result.rejects) == [
        ("Attribute[6]", "category"),  # a link to the analysis report
        ("Attribute[7]", "Tag"),  # TLP:RED, and this import names no recipient
        ("Attribute[8]", "type"),  # campaign-name
    ]
    assert result.events == 1
    # country-code, swift, account-name, symbol, the e-mail's recipient, the SMS body, one deleted
    assert result.ignored == 7


def test_require_to_ids_skips_attributes_without_it() -> None:
    result = import_misp_file(FIXTURE, MM, MispImportOptions(require_to_ids=True), now=NOW)
    kinds = {f.indicator.kind.value for f in result.facts}
    assert "phone" not in kinds
    assert "crypto_wallet" not in kinds
    assert "url" in kinds


def test_orgc_maps_to_an_agency_else_the_default_peer() -> None:
    event = json.loads(FIXTURE.read_text(encoding="utf-8"))
    resolve = agencies_by_org({"7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6": "MM-CCD"}, [MM, TH], PEER)
    assert {f.agency for f in import_misp_events([event], resolve, now=NOW).facts} == {MM}

    event["Event"]["Orgc"] = {"name": "Someone Else", "uuid": str(uuid.UUID(int=99))}
    assert {f.agency for f in import_misp_events([event], resolve, now=NOW).facts} == {PEER}
    by_name = agencies_by_org({"someone else": "TH-CCIB"}, [MM, TH], PEER)
    assert {f.agency for f in import_misp_events([event], by_name, now=NOW).facts} == {TH}
    with pytest.raises(UsageError, match="XX-NONE"):
        agencies_by_org({"a": "XX-NONE"}, [MM], PEER)


def test_pymisp_event_objects_import_as_well() -> None:
    event = MISPEvent()
    event.load_file(str(FIXTURE))
    from_objects = import_misp_events([event], MM, now=NOW)
    from_file = import_misp_file(FIXTURE, MM, now=NOW)
    assert _facts(from_objects.facts) == _facts(from_file.facts)


def test_without_tags_the_distribution_narrows_the_default_but_never_widens_it() -> None:
    untagged = _attribute(1, "domain", "usdt-invest-pro.top")
    green = MispImportOptions(default_tlp=Tlp.GREEN)

    def tlp_of(distribution: str | None, attribute: dict[str, Any] = untagged) -> Tlp:
        fields = {} if distribution is None else {"distribution": distribution}
        result = import_misp_events([_event(attribute, **fields)], MM, green, now=NOW)
        return result.facts[0].tlp

    assert tlp_of(None) is Tlp.GREEN
    assert tlp_of("3") is Tlp.GREEN  # "all communities" does not make it CLEAR
    assert tlp_of("0") is Tlp.AMBER  # "your organisation only"
    assert tlp_of("3", untagged | {"distribution": "0"}) is Tlp.AMBER  # the attribute's wins
    assert tlp_of("0", untagged | {"distribution": "5"}) is Tlp.AMBER  # 5 inherits the event's


def test_amber_facts_carry_the_groups_red_ones_the_recipients() -> None:
    options = MispImportOptions(groups=frozenset({4}), recipients=frozenset({9}))
    result = import_misp_file(FIXTURE, MM, options, now=NOW)
    for fact in result.facts:
        assert fact.groups == (frozenset({4}) if fact.tlp is Tlp.AMBER else frozenset())
        assert fact.recipients == (frozenset({9}) if fact.tlp is Tlp.RED else frozenset())
    red = [f for f in result.facts if f.tlp is Tlp.RED]
    assert [f.indicator.canonical for f in red] == ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]


# ---------------------------------------------------------------------------------- bad input

BAD_ATTRIBUTES = [
    pytest.param(_attribute(2, "mutex", "Global\\x"), "type", "not a kind of indicator", id="type"),
    pytest.param(_attribute(2, "phone-number", "12"), "value", "not a valid phone", id="value"),
    pytest.param(
        _attribute(2, "md5", "9dd4e461268c8034f5c8564e155c67a6"), "value", "SHA-256", id="md5"
    ),
    pytest.param(_attribute(2, "text", "call me maybe"), "value", "free text", id="free-text"),
    pytest.param(_attribute(2, "domain|ip", "a.example.org"), "value", "2 parts", id="parts"),
    pytest.param(_attribute(2, "domain", ""), "value", "required", id="empty"),
    pytest.param(_attribute(2, "domain", {"x": 1}), "value", "expected text", id="value-shape"),
    pytest.param(
        _attribute(2, "domain", "b.example.org", timestamp="yesterday"),
        "timestamp",
        "not a time",
        id="timestamp",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", first_seen="2027-06-01T00:00:00Z"),
        "first_seen",
        "in the future",
        id="future",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", first_seen="1900-01-01"),
        "first_seen",
        "before 1970",
        id="past",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", Tag=[{"name": "tlp:unclear"}]),
        "Tag",
        "not a TLP 2.0 marking",
        id="tlp",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", Tag="tlp:red"), "Tag", "list", id="tag-shape"
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", Tag=[{"name": "tlp:red"}]),
        "Tag",
        "names nobody",
        id="red-for-nobody",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", Tag=[{"name": 'misp:confidence-level="sure"'}]),
        "Tag",
        "unknown confidence",
        id="confidence",
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", distribution="9"),
        "distribution",
        "0-5",
        id="distribution",
    ),
    *(
        pytest.param(
            _attribute(2, "domain", "b.example.org", distribution=level),
            "distribution",
            "not a MISP distribution",
            id=f"distribution-{name}",
        )
        for name, level in [("true", True), ("2.7", 2.7), ("infinity", float("inf"))]
    ),
    *(
        pytest.param(
            _attribute(2, "link", "https://report.example.org", category=category),
            "category",
            "expected text",
            id=f"category-{type(category).__name__}",
        )
        for category in (["External analysis"], {"name": "External analysis"})
    ),
    pytest.param(
        _attribute(2, "domain", "b.example.org", comment="a\x00b"),
        "comment",
        "control characters",
        id="comment",
    ),
    pytest.param(
        _attribute(2, "link", "https://report.example.org", category="External analysis"),
        "category",
        "points to a report",
        id="reference-link",
    ),
    pytest.param(
        {"type": "domain", "value": "c.example.org"}, "uuid", "expected a uuid", id="no-uuid"
    ),
    pytest.param(
        _attribute(2, "domain", "c.example.org") | {"uuid": "nope"},
        "uuid",
        "not a uuid",
        id="bad-uuid",
    ),
    pytest.param(["domain", "c.example.org"], "Attribute", "JSON object", id="shape"),
]


@pytest.mark.parametrize(("bad", "field", "reason"), BAD_ATTRIBUTES)
def test_a_bad_attribute_is_rejected_with_its_reason_and_the_good_one_imports(
    bad: Any, field: str, reason: str
) -> None:
    result = import_misp_events([_event(GOOD, bad)], MM, now=NOW)

    assert [f.indicator.canonical for f in result.facts] == ["usdt-invest-pro.top"]
    [reject] = result.rejects
    assert reject.event == "9e1c2d3b-4a5f-4e6d-8c7b-6a5f4e3d2c1b"
    assert reject.place == "Attribute[1]"
    assert reject.field == field
    assert reason in reject.reason
    if isinstance(bad, dict) and field != "uuid":
        assert reject.attribute == str(uuid.UUID(int=2))
    assert reject.event in reject.message
    assert reason in reject.message


def test_a_bad_part_of_a_composite_value_rejects_the_whole_attribute() -> None:
    half = _attribute(2, "domain|ip", "d.example.org|999.1.1.1")
    result = import_misp_events([_event(GOOD, half)], MM, now=NOW)
    assert [f.indicator.canonical for f in result.facts] == ["usdt-invest-pro.top"]
    assert result.rejects[0].field == "value"


def test_a_bad_object_attribute_is_rejected_and_its_siblings_import() -> None:
    obj = {
        "name": "phone-number",
        "Attribute": [
            _attribute(3, "phone-number", "+95 9 421 234 567", object_relation="phone-number"),
            _attribute(4, "phone-number", "+95 1", object_relation="phone-number"),
        ],
    }
    result = import_misp_events([_event(Object=[obj])], MM, now=NOW)
    assert [f.indicator.canonical for f in result.facts] == ["+959421234567"]
    [reject] = result.rejects
    assert (reject.place, reject.attribute, reject.field) == (
        "Object[0].Attribute[1]",
        str(uuid.UUID(int=4)),
        "value",
    )


@pytest.mark.parametrize("relation", [["phone-number"], {"name": "phone-number"}])
def test_an_object_attribute_whose_relation_is_not_text_is_rejected(relation: Any) -> None:
    obj = {
        "name": "phone-number",
        "Attribute": [
            _attribute(3, "phone-number", "+95 9 421 234 567", object_relation="phone-number"),
            _attribute(4, "phone-number", "+95 9 421 234 568", object_relation=relation),
        ],
    }
    result = import_misp_events([_event(Object=[obj])], MM, now=NOW)
    assert [f.indicator.canonical for f in result.facts] == ["+959421234567"]
    [reject] = result.rejects
    assert (reject.place, reject.field) == ("Object[0].Attribute[1]", "object_relation")
    assert "expected text" in reject.reason


def test_infinity_as_a_distribution_is_rejected_on_an_attribute_and_on_an_event() -> None:
    # json.loads reads the bare word Infinity, which json.dumps writes for float("inf")
    on_attribute = json.dumps(
        _event(GOOD, _attribute(2, "domain", "b.example.org") | {"distribution": float("inf")})
    )
    on_event = json.dumps(_event(GOOD, distribution=float("inf")))
    assert '"distribution": Infinity' in on_attribute
    assert '"distribution": Infinity' in on_event

    result = import_misp_json(on_attribute, MM, now=NOW)
    assert [f.indicator.canonical for f in result.facts] == ["usdt-invest-pro.top"]
    assert [(r.place, r.field) for r in result.rejects] == [("Attribute[1]", "distribution")]

    result = import_misp_json(on_event, MM, now=NOW)
    assert (result.facts, result.events) == ((), 0)
    assert [(r.place, r.field) for r in result.rejects] == [("Event[0]", "distribution")]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        pytest.param(_event(GOOD, date="20/10/2026"), "date", id="date"),
        pytest.param(_event(GOOD, uuid="nope"), "uuid", id="uuid"),
        pytest.param(_event(GOOD, Orgc="MM-CCD"), "Orgc", id="orgc"),
        pytest.param(_event(GOOD, Tag=[{"name": "tlp:purple"}]), "Tag", id="tag"),
        pytest.param(_event(GOOD, distribution=True), "distribution", id="distribution-true"),
        pytest.param(_event(GOOD, distribution=2.7), "distribution", id="distribution-2.7"),
        pytest.param(_event(Attribute={"a": GOOD}), "Attribute", id="attributes"),
        pytest.param(_event(Object=[{"Attribute": []}]), "Object[0]", id="object"),
        pytest.param(["not", "an", "event"], "Event", id="shape"),
    ],
)
def test_an_unusable_event_is_rejected_whole(event: Any, field: str) -> None:
    result = import_misp_events([event, _event(GOOD, uuid=str(uuid.UUID(int=5)))], MM, now=NOW)
    assert len(result.facts) == 1
    [reject] = result.rejects
    assert (reject.place, reject.field) == ("Event[0]", field)


def test_attributes_per_event_and_bytes_per_file_are_capped(tmp_path: Path) -> None:
    many = _event(*(_attribute(10 + i, "domain", f"d{i}.example.org") for i in range(5)))
    options = MispImportOptions(max_attributes_per_event=4, max_file_bytes=400)
    result = import_misp_events([many], MM, options, now=NOW)
    assert result.facts == ()
    assert "over the cap of 4" in result.rejects[0].reason

    text = json.dumps(many)
    with pytest.raises(PayloadTooLarge):
        import_misp_json(text, MM, options, now=NOW)
    path = tmp_path / "big.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PayloadTooLarge):
        import_misp_file(path, MM, options, now=NOW)
    assert len(import_misp_file(path, MM, now=NOW).facts) == 5


def test_input_that_is_not_json_is_one_reject() -> None:
    result = import_misp_json('{"Event": ', MM, now=NOW, source="upload.json")
    assert result.facts == ()
    assert (result.rejects[0].source, result.rejects[0].field) == ("upload.json", "json")


def test_list_and_rest_search_forms() -> None:
    second = _event(_attribute(6, "domain", "e.example.org"), uuid=str(uuid.UUID(int=6)))
    for document in ([_event(GOOD), second], {"response": [_event(GOOD), second]}):
        result = import_misp_json(json.dumps(document), MM, now=NOW)
        assert (result.events, len(result.facts)) == (2, 2)


# ---------------------------------------------------------------------------------- feed


def _write_feed(folder: Path, events: list[MISPEvent]) -> None:
    manifest: dict[str, Any] = {}
    for event in events:
        feed = event.to_feed(with_meta=True)
        manifest |= feed["Event"].pop("_manifest")
        feed["Event"].pop("_hashes")
        (folder / f"{event.uuid}.json").write_text(json.dumps(feed), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_feed_directory_written_by_pymisp_imports(tmp_path: Path) -> None:
    sightings = _sightings()
    events = [
        export_misp_event(sightings[:9], info="first half", agency=TH).event,
        export_misp_event(sightings[9:], info="second half", agency=TH).event,
    ]
    _write_feed(tmp_path, events)

    result = import_misp_feed(tmp_path, PEER, now=NOW)

    assert result.rejects == ()
    assert result.events == 2
    assert _facts(result.facts) == _facts(sightings)


def test_a_feed_manifest_entry_that_is_not_a_uuid_is_never_opened(tmp_path: Path) -> None:
    _write_feed(tmp_path, [export_misp_event(_sightings()[:3], info="x", agency=TH).event])
    (tmp_path / "secret.json").write_text(json.dumps(_event(GOOD)), encoding="utf-8")
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    manifest["../secret"] = {}
    manifest[str(uuid.UUID(int=12))] = {}  # listed, but its file is missing
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    result = import_misp_feed(tmp_path, PEER, now=NOW)

    assert len(result.facts) == 3
    reasons = {r.event: (r.field, r.reason) for r in result.rejects}
    assert reasons["../secret"][0] == "manifest"
    assert reasons[str(uuid.UUID(int=12))][0] == "file"
    assert "usdt-invest-pro.top" not in {f.indicator.canonical for f in result.facts}


def test_event_date_is_the_fallback_time() -> None:
    result = import_misp_events([_event(_attribute(7, "domain", "f.example.org"))], MM, now=NOW)
    assert result.facts[0].observed_at == datetime(2026, 10, 20, tzinfo=UTC)
    assert (
        export_misp_event([], info="empty", agency=TH, event_date=date(2026, 1, 2)).exported == ()
    )


@pytest.mark.parametrize(
    "gone",
    [
        pytest.param(_attribute(2, "phone-number", "12"), id="bad-value"),
        pytest.param(_attribute(2, "mutex", "Global\\x"), id="unpooled-type"),
        pytest.param(_attribute(2, "domain", ""), id="empty-value"),
        pytest.param(_attribute(2, "domain", {"x": 1}), id="value-shape"),
        pytest.param(_attribute(2, "text", "call me maybe"), id="free-text"),
    ],
)
@pytest.mark.parametrize("deleted", [True, "1"])
def test_a_deleted_attribute_is_skipped_whatever_its_value(gone: Any, deleted: Any) -> None:
    result = import_misp_events([_event(GOOD, gone | {"deleted": deleted})], MM, now=NOW)
    assert result.rejects == ()
    assert result.ignored == 1
    assert [f.indicator.canonical for f in result.facts] == ["usdt-invest-pro.top"]


def test_distribution_two_point_zero_is_two() -> None:
    untagged = _attribute(2, "domain", "b.example.org", timestamp="1792454400")
    green = MispImportOptions(default_tlp=Tlp.GREEN)
    result = import_misp_events([_event(untagged | {"distribution": 0.0})], MM, green, now=NOW)
    assert (result.rejects, [f.tlp for f in result.facts]) == ((), [Tlp.AMBER])


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "2026-11-03", "2999-01-01"])
def test_an_event_date_out_of_range_is_no_fallback_time(day: str) -> None:
    undated = _attribute(2, "domain", "b.example.org")
    result = import_misp_events([_event(GOOD, undated, date=day)], MM, now=NOW)

    # GOOD has its own timestamp and imports; the attribute that needed the date is rejected
    assert [f.indicator.canonical for f in result.facts] == ["usdt-invest-pro.top"]
    [reject] = result.rejects
    assert (reject.place, reject.field) == ("Attribute[1]", "date")
    assert "before 1970 or in the future" in reject.reason


def test_an_event_date_up_to_a_day_ahead_is_a_fallback_time() -> None:
    undated = _attribute(2, "domain", "b.example.org")
    result = import_misp_events([_event(undated, date="2026-11-02")], MM, now=NOW)
    assert result.rejects == ()
    assert result.facts[0].observed_at == datetime(2026, 11, 2, tzinfo=UTC)


def test_max_file_bytes_counts_utf8_bytes_of_text_not_characters() -> None:
    # Thai: three bytes a character, so the text is under the cap in characters, over it in bytes
    text = json.dumps(_event(GOOD, info="แก๊งคอลเซ็นเตอร์" * 20), ensure_ascii=False)
    size = len(text.encode("utf-8"))
    assert len(text) < size
    tight = MispImportOptions(max_file_bytes=size - 1)
    with pytest.raises(PayloadTooLarge):
        import_misp_json(text, MM, tight, now=NOW)
    with pytest.raises(PayloadTooLarge):
        import_misp_json(text.encode("utf-8"), MM, tight, now=NOW)
    exact = MispImportOptions(max_file_bytes=size)
    assert len(import_misp_json(text, MM, exact, now=NOW).facts) == 1


def _numbered(n: int, *attributes: Any, **fields: Any) -> dict[str, Any]:
    return _event(*attributes, uuid=str(uuid.UUID(int=100 + n)), **fields)


def test_max_events_bounds_rejected_events_too_and_reading_stops_there() -> None:
    pulled = []

    def peer() -> Iterator[Any]:
        for n in range(1000):
            pulled.append(n)
            yield _numbered(n, GOOD, date="not a date") if n < 3 else _numbered(n, GOOD)

    result = import_misp_events(peer(), MM, MispImportOptions(max_events=3), now=NOW)

    assert (result.facts, result.events) == ((), 0)
    assert [r.field for r in result.rejects] == ["date", "date", "date", "Event"]
    assert "over 3 events" in result.rejects[-1].reason
    assert result.rejects[-1].place == "Event[3]"
    assert len(pulled) == 4  # the generator is not drained

    document = json.dumps([_numbered(n, GOOD) for n in range(5)])
    result = import_misp_json(document, MM, MispImportOptions(max_events=2), now=NOW)
    assert (result.events, len(result.facts), len(result.rejects)) == (2, 2, 1)


def test_max_events_stops_a_feed_before_its_next_file(tmp_path: Path) -> None:
    sightings = _sightings()
    events = [
        export_misp_event(sightings[i : i + 3], info=f"part {i}", agency=TH).event
        for i in range(0, 9, 3)
    ]
    _write_feed(tmp_path, events)
    order = sorted(str(e.uuid) for e in events)
    (tmp_path / f"{order[2]}.json").write_text("{not JSON", encoding="utf-8")

    result = import_misp_feed(tmp_path, PEER, MispImportOptions(max_events=2), now=NOW)

    assert (result.events, len(result.facts)) == (2, 6)
    [reject] = result.rejects  # the third file is never read: no "not JSON" reject
    assert (reject.event, reject.field) == (order[2], "Event")


def test_an_empty_export_is_dated_by_the_utc_day() -> None:
    late_in_new_york = datetime(2026, 11, 1, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    empty = export_misp_event([], info="empty", agency=TH, now=late_in_new_york)
    assert empty.event.date == date(2026, 11, 2)


def test_an_empty_export_without_now_is_dated_by_the_utc_day_not_the_local_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = datetime.now(UTC)
    # a zone whose day differs from UTC's at this hour (POSIX signs: Etc/GMT+12 is UTC-12)
    zone = "Etc/GMT+12" if before.hour < 12 else "Etc/GMT-14"
    with monkeypatch.context() as patch:
        patch.setenv("TZ", zone)
        time.tzset()
        local = date.today()
        dated = export_misp_event([], info="empty", agency=TH).event.date
    time.tzset()
    after = datetime.now(UTC)
    assert local not in {before.date(), after.date()}  # else this test could not fail
    assert dated in {before.date(), after.date()}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "uuid",
    "type",
    "value",
    "category",
    "to_ids",
    "first_seen",
    "timestamp",
    "Tag",
    "comment",
    "distribution",
    "deleted",
    "object_relation",
]


@settings(max_examples=300, deadline=None)
@given(
    attribute=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6),
    event_fields=st.dictionaries(
        st.sampled_from(["date", "Tag", "Orgc", "distribution", "Object", "uuid"]), JSON, max_size=2
    ),
)
def test_any_json_in_any_field_is_a_reject_never_a_crash(
    attribute: dict[str, Any], event_fields: dict[str, Any]
) -> None:
    result = import_misp_events([_event(GOOD, attribute, **event_fields)], MM, now=NOW)
    assert len(result.facts) + len(result.rejects) + result.ignored >= 1
    for reject in result.rejects:
        assert reject.reason
        assert reject.field


def test_options_are_checked_once_up_front() -> None:
    with pytest.raises(UsageError):
        MispImportOptions(default_confidence=101)
    with pytest.raises(UsageError):
        MispImportOptions(max_file_bytes=0)
    with pytest.raises(InvalidIndicator):
        MispImportOptions(region="XX")


def test_times_in_digits_of_another_script_are_not_unix_seconds() -> None:
    from scamwall.exchange.misp.fields import read_moment

    assert read_moment("1700000000").year == 2023
    with pytest.raises(ValueError, match="isoformat"):
        read_moment("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660")
