"""STIX 2.1 out and in, with the ``stix2`` library as the peer that judges what goes out.

Every object type the export writes is parsed by ``stix2``; observable ids are held equal to the
ones ``stix2`` computes; a round trip gives back the same facts (the same sighting ids); each
kind of hostile object is rejected with its index, id, field and reason while the rest imports;
RED and AMBER+STRICT never leave unless the caller names them.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import stix2
from hypothesis import given
from hypothesis import strategies as st
from stix2.canonicalization.Canonicalize import canonicalize
from stix2.properties import StringProperty
from stix2.v21 import CustomObservable

from scamwall.errors import (
    InvalidInput,
    InvalidRecord,
    PayloadTooLarge,
    PermissionDenied,
    UsageError,
)
from scamwall.exchange.policy import Caller, Role
from scamwall.exchange.reads import lookup
from scamwall.exchange.stix import (
    DEFINITIONS_CREATED,
    SCO_NAMESPACE,
    TLP_MARKING_IDS,
    LegalBasis,
    agency_stix_id,
    extension_id,
    indicator_pattern,
    indicator_stix_id,
    observable_pattern,
    read_pattern,
    tlp_marking_definition,
)
from scamwall.exchange.stix_export import (
    agency_identity,
    export_bundle,
    export_objects,
    indicator_object,
    iter_bundle_json,
    observable_object,
    sighting_object,
)
from scamwall.exchange.stix_import import (
    PeerIdentity,
    StixImportOptions,
    StixImportResult,
    import_bundle,
)
from scamwall.indicators import Indicator, IndicatorKind, parse_indicator
from scamwall.store import Agency, Sighting, Store
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

T0 = datetime(2026, 11, 1, 8, 15, tzinfo=UTC)
RECEIVED = datetime(2026, 12, 1, tzinfo=UTC)
POLICE = Agency(1, "TH-CCIB", "Central Investigation Bureau", "TH", AgencyKind.POLICE)
BANK = Agency(2, "MM-KBZ", "KBZ Bank fraud desk", "MM", AgencyKind.BANK)

# (raw value, kind) of every kind, some in the disguises peers send them in
VALUES = [
    ("Example.COM.", "domain"),
    ("http://pay.scam.example/x'y?a=1", "url"),
    ("http://ตัวอย่าง.example/จ่าย", "url"),
    ("203.0.113.7", "ip"),
    ("2001:db8::1", "ip"),
    ("10.1.2.3/8", "cidr"),
    ("2001:db8::/32", "cidr"),
    ("Victim.Help@Scam.Example", "email"),
    ("ทดสอบ@scam.example", "email"),
    ("+66 81 234 5678", "phone"),
    ("KBANK", "sms_sender"),
    ("1234567", "sms_sender"),
    ("GB33 BUKB 2020 1555 5555 55", "bank_account"),
    ("TH:KBANK:123-4-56789-0", "bank_account"),
    ("0x52908400098527886E0F7030069857D2E4169EE7", "crypto_wallet"),
    ("TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", "crypto_wallet"),
    ("t.me/Scam_Support", "handle"),
    ("whatsapp:+66812345678", "handle"),
    ("sha256:" + "AB" * 32, "file_hash"),
]
INDICATORS = [parse_indicator(value, kind) for value, kind in VALUES]


def _register_custom_observables() -> None:
    """scamwall's custom observable types as ``stix2`` classes, so ``stix2`` checks them and
    computes their ids by the rule their extension definitions state."""
    types = {
        "phone-number": ["value"],
        "cryptocurrency-wallet": ["value"],
        "bank-account": ["iban", "bic", "account_number", "x_scamwall_country", "x_scamwall_bank"],
    }
    for sco_type, names in types.items():
        properties = [(name, StringProperty()) for name in names]
        with contextlib.suppress(stix2.exceptions.DuplicateRegistrationError):
            CustomObservable(sco_type, properties, names, extension_id(sco_type))(type("C", (), {}))


_register_custom_observables()


def _sighting(
    indicator: Indicator,
    *,
    agency: Agency = POLICE,
    minutes: int = 0,
    tlp: Tlp = Tlp.GREEN,
    note: str | None = "seen in an SMS",
) -> Sighting:
    return Sighting(
        indicator=indicator,
        agency=agency,
        observed_at=T0 + timedelta(minutes=minutes, microseconds=minutes * 1001),
        source_kind=SourceKind.VICTIM_REPORT,
        confidence=70,
        tlp=tlp,
        note=note,
        evidence_ref=f"case {minutes}",
    )


@pytest.fixture
def sightings() -> list[Sighting]:
    """Every kind, two agencies, three exportable levels; the first indicator seen twice."""
    levels = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]
    found = [
        _sighting(ind, agency=(POLICE, BANK)[i % 2], minutes=i, tlp=levels[i % 3])
        for i, ind in enumerate(INDICATORS)
    ]
    return [*found, _sighting(INDICATORS[0], agency=BANK, minutes=99, note=None)]


def _options(**overrides: Any) -> StixImportOptions:
    values: dict[str, Any] = {"default_agency": "PEER", "received_at": RECEIVED}
    return StixImportOptions(**{**values, **overrides})


def _same_codes(peer: PeerIdentity) -> str | None:
    return peer.agency_code


def _indicator(pattern: str, markings: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    stamp = "2026-11-01T08:15:00.000Z"
    number = uuid.uuid5(SCO_NAMESPACE, pattern + json.dumps(extra, sort_keys=True))
    stix_indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{number}",
        "created": stamp,
        "modified": stamp,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        **extra,
    }
    if markings:
        stix_indicator["object_marking_refs"] = markings
    return stix_indicator


def _stix_sighting(target: str, markings: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    stamp = "2026-11-02T00:00:00.000Z"
    sighting: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid5(SCO_NAMESPACE, target + repr(sorted(extra.items())))}",
        "created": stamp,
        "modified": stamp,
        "sighting_of_ref": target,
        **extra,
    }
    if markings:
        sighting["object_marking_refs"] = markings
    return sighting


def _bundle(*objects: Any) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


# --- export: what stix2 makes of it ---------------------------------------------------------


def test_every_exported_object_passes_stix2(sightings: list[Sighting]) -> None:
    objects = list(export_objects(sightings, legal_basis=LegalBasis("TH", "CCA s.20")))
    assert {o["type"] for o in objects} >= {
        "marking-definition", "identity", "extension-definition", "indicator", "sighting",
        "domain-name", "url", "ipv4-addr", "ipv6-addr", "email-addr", "file", "user-account",
        "phone-number", "bank-account", "cryptocurrency-wallet",
    }  # fmt: skip
    for stix_object in objects:
        parsed = stix2.parse(stix_object, allow_custom=True)
        assert parsed["id"] == stix_object["id"]
        # without the x_ properties every object is valid STIX to the letter (patterns too)
        strict = {k: v for k, v in stix_object.items() if not k.startswith("x_")}
        assert not isinstance(stix2.parse(strict, allow_custom=False), dict), stix_object["type"]


def test_markings_are_the_published_tlp_2_objects() -> None:
    assert tlp_marking_definition(Tlp.AMBER_STRICT) == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "amber+strict",
            }
        },
    }
    assert TLP_MARKING_IDS == {
        Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }


def test_bundles_carry_every_marking_and_extension_they_refer_to(
    sightings: list[Sighting],
) -> None:
    bundle = export_bundle(sightings)
    ids = [o["id"] for o in bundle["objects"]]
    assert len(ids) == len(set(ids))
    seen: set[str] = set()
    for stix_object in bundle["objects"]:  # every reference points back, never forward
        refs = [*stix_object.get("object_marking_refs", []), *stix_object.get("extensions", {})]
        refs += [stix_object[k] for k in ("created_by_ref", "sighting_of_ref") if k in stix_object]
        refs += stix_object.get("where_sighted_refs", [])
        missing = [
            r for r in refs if r not in seen and not r.startswith("extension-definition--60a3")
        ]
        assert not missing, (stix_object["id"], missing)
        seen.add(stix_object["id"])
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == len(INDICATORS)
    assert sum(o["type"] == "sighting" for o in bundle["objects"]) == len(sightings)


def test_sighting_carries_the_facts_and_the_legal_basis() -> None:
    fact = _sighting(INDICATORS[0], tlp=Tlp.AMBER)
    basis = LegalBasis("TH", "Computer Crime Act s.20", datetime(2028, 1, 1, tzinfo=UTC))
    sdo = sighting_object(fact, legal_basis=basis)
    assert sdo["id"] == f"sighting--{fact.id}"
    assert sdo["sighting_of_ref"] == indicator_stix_id(indicator_pattern(fact.indicator))
    assert sdo["where_sighted_refs"] == [agency_stix_id("TH-CCIB")] == [sdo["created_by_ref"]]
    assert sdo["first_seen"] == sdo["last_seen"] == sdo["created"] == "2026-11-01T08:15:00.000Z"
    assert sdo["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.AMBER]]
    assert (sdo["confidence"], sdo["x_scamwall_source_kind"]) == (70, "victim_report")
    assert (sdo["x_scamwall_note"], sdo["x_scamwall_evidence_ref"]) == ("seen in an SMS", "case 0")
    assert sdo["x_scamwall_legal_basis"] == {
        "jurisdiction": "TH",
        "instrument": "Computer Crime Act s.20",
        "retain_until": "2028-01-01T00:00:00.000Z",
    }
    assert "x_scamwall_legal_basis" not in sighting_object(fact)


def test_times_keep_microseconds_only_when_they_have_them() -> None:
    fine = _sighting(INDICATORS[0], minutes=1)  # 1,001 microseconds past the minute
    assert sighting_object(fine)["first_seen"] == "2026-11-01T08:16:00.001001Z"
    bangkok = fine.observed_at.astimezone(ZoneInfo("Asia/Bangkok"))
    assert indicator_object(fine.indicator, bangkok)["valid_from"] == "2026-11-01T08:16:00.001001Z"


# --- deterministic ids ----------------------------------------------------------------------


def _stix2_observable(indicator: Indicator) -> Any:
    sco = observable_object(indicator)
    properties = {k: v for k, v in sco.items() if k not in ("type", "spec_version", "id")}
    properties.pop("extensions", None)
    return stix2.parse({"type": sco["type"], "spec_version": "2.1", **properties}, version="2.1")


@pytest.mark.parametrize("indicator", INDICATORS, ids=[i.canonical[:30] for i in INDICATORS])
def test_observable_ids_are_the_ones_stix2_computes(indicator: Indicator) -> None:
    sco = observable_object(indicator)
    reference = _stix2_observable(indicator)
    assert sco["id"] == reference.id
    assert sco["id"].startswith(f"{sco['type']}--")


def test_indicator_ids_follow_the_opencti_rule_and_ignore_spelling() -> None:
    pattern = "[domain-name:value = 'example.com']"
    expected = uuid.uuid5(SCO_NAMESPACE, canonicalize({"pattern": pattern}, utf8=False))
    first = indicator_object(parse_indicator("Example.COM."), T0)
    second = indicator_object(parse_indicator("example.com"), T0 + timedelta(days=3))
    assert first["id"] == second["id"] == f"indicator--{expected}"
    assert first["pattern"] == pattern


def test_agency_ids_come_from_the_code_alone() -> None:
    renamed = Agency(9, "TH-CCIB", "CIB (renamed)", "TH", AgencyKind.POLICE)
    assert agency_identity(POLICE)["id"] == agency_identity(renamed)["id"]
    assert agency_identity(POLICE)["id"] != agency_identity(BANK)["id"]
    assert agency_identity(POLICE)["created"] == DEFINITIONS_CREATED
    assert agency_identity(BANK)["sectors"] == ["financial-services"]


def test_ids_shared_with_peers_never_change() -> None:
    assert agency_stix_id("TH-CCIB") == "identity--4804aada-459c-59ea-a64b-b823b40ed9eb"
    assert extension_id("phone-number") == (
        "extension-definition--436c3197-1a4e-5343-b120-767a9d7097a0"
    )
    assert observable_object(INDICATORS[9])["id"] == (
        "phone-number--fdd65488-fc91-527d-9ddb-057b202a6e8f"
    )


def test_bundle_text_is_the_dicts_encoded_byte_for_byte(sightings: list[Sighting]) -> None:
    odd = _sighting(parse_indicator("http://x.example/\u00e9?q=\"'\\"), note='é\n\t"\u2028')
    facts = [*sightings, odd]
    basis = LegalBasis("TH-10", "พ.ร.บ. คอมพิวเตอร์ มาตรา 20", T0)
    text = "".join(iter_bundle_json(facts, legal_basis=basis, objects_per_chunk=5))
    objects = export_objects(facts, legal_basis=basis)
    encoded = ",".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in objects)
    assert text.startswith('{"type":"bundle","objects":[' + encoded + '],"id":"bundle--')


def test_reexport_is_byte_identical_however_it_is_cut(sightings: list[Sighting]) -> None:
    whole = "".join(iter_bundle_json(sightings))
    assert whole == "".join(iter_bundle_json(list(sightings)))
    assert whole == "".join(iter_bundle_json(sightings, objects_per_chunk=1))
    assert whole == "".join(iter_bundle_json(sightings, objects_per_chunk=7))
    other = "".join(iter_bundle_json(sightings[:-1]))
    assert json.loads(whole)["id"] != json.loads(other)["id"]
    empty = json.loads("".join(iter_bundle_json([])))
    assert set(empty) == {"type", "id"}  # no empty "objects" list: STIX wants one or more


def test_bundle_is_streamed_as_the_sightings_come() -> None:
    pulled = itertools.count()

    def many() -> Iterator[Sighting]:
        for n in range(5000):
            next(pulled)
            yield _sighting(Indicator(IndicatorKind.DOMAIN, f"s{n}.example"), minutes=n % 60)

    chunks = iter_bundle_json(many(), objects_per_chunk=100)
    first = next(chunks)
    assert first.startswith('{"type":"bundle","objects":[')
    assert next(pulled) < 200  # the first chunk left long before the input ran out
    rest = list(chunks)
    bundle = json.loads(first + "".join(rest))
    assert len(bundle["objects"]) == 2 + 5000 * 3  # marking, identity, 3 per indicator


# --- the sharing rule -----------------------------------------------------------------------


@pytest.mark.parametrize("tlp", [Tlp.RED, Tlp.AMBER_STRICT])
def test_red_and_amber_strict_never_leave_unless_allowed(tlp: Tlp) -> None:
    secret = _sighting(parse_indicator("secret.example"), tlp=tlp)
    fine = _sighting(INDICATORS[0])
    objects = export_objects([fine, secret])
    first = list(itertools.islice(objects, 5))  # marking, identity, observable, indicator, sighting
    assert [o["type"] for o in first][-1] == "sighting"
    with pytest.raises(PermissionDenied, match=re.escape(f"TLP:{tlp.value.upper()}")):
        next(objects)  # not even the marking of the second sighting leaves
    with pytest.raises(PermissionDenied):
        "".join(iter_bundle_json([secret]))
    with pytest.raises(PermissionDenied):
        sighting_object(secret)
    allowed = export_bundle([secret], allowed_tlps=set(Tlp))
    marked = [o for o in allowed["objects"] if o["type"] == "sighting"]
    assert marked[0]["object_marking_refs"] == [TLP_MARKING_IDS[tlp]]


# --- import: round trip and peers -------------------------------------------------------------


def test_round_trip_gives_back_the_same_facts(sightings: list[Sighting]) -> None:
    basis = LegalBasis("MM", "MLA treaty art. 7", datetime(2027, 6, 30, 12, tzinfo=UTC))
    text = "".join(iter_bundle_json(sightings, legal_basis=basis))
    result = import_bundle(text.encode(), _options(agencies=_same_codes))
    assert result.rejects == ()
    agencies = {a.code: a for a in (POLICE, BANK)}
    back = list(result.sightings(agencies.__getitem__))
    assert [s.id for s in back] == [s.id for s in sightings]
    for original, again, fact in zip(sightings, back, result.facts, strict=True):
        assert again.indicator == original.indicator
        assert again.indicator.kind is original.indicator.kind
        assert again.agency == original.agency
        assert (again.tlp, again.observed_at, again.confidence) == (
            original.tlp,
            original.observed_at,
            original.confidence,
        )
        assert (again.source_kind, again.note, again.evidence_ref) == (
            original.source_kind,
            original.note,
            original.evidence_ref,
        )
        assert fact.legal_basis == basis


def test_a_value_seen_amber_then_green_comes_back_amber_then_green() -> None:
    """The export marks the indicator with its first sighting's TLP; each scamwall sighting
    keeps its own on the way back in (a GREEN fact must not turn AMBER at the peer)."""
    value = INDICATORS[0]
    facts = [_sighting(value, tlp=Tlp.AMBER), _sighting(value, minutes=1, tlp=Tlp.GREEN)]
    text = "".join(iter_bundle_json(facts))
    result = import_bundle(text.encode(), _options(agencies=_same_codes))
    assert [f.tlp for f in result.facts] == [Tlp.AMBER, Tlp.GREEN]


def test_import_canonicalises_what_a_peer_wrote() -> None:
    bundle = _bundle(_indicator("[domain-name:value = 'Example.COM.']"))
    (fact,) = import_bundle(bundle, _options()).facts
    assert fact.indicator == Indicator(IndicatorKind.DOMAIN, "example.com")
    assert (fact.agency_code, fact.tlp, fact.confidence) == ("PEER", Tlp.AMBER, 50)
    assert fact.observed_at == T0
    assert fact.source_kind is SourceKind.PARTNER_FEED


def test_import_reads_a_bundle_built_by_the_stix2_library() -> None:
    peer = stix2.Identity(name="Bangkok CERT", identity_class="organization")
    indicator = stix2.Indicator(
        pattern="[url:value = 'HTTP://Login.Scam.Example:80/a/../b']",
        pattern_type="stix",
        valid_from=T0,
        created_by_ref=peer,
        object_marking_refs=[stix2.TLP_GREEN],
    )
    sighting = stix2.Sighting(
        sighting_of_ref=indicator,
        where_sighted_refs=[peer],
        first_seen=T0 + timedelta(hours=1),
        confidence=90,
        description="reported by 40 victims",
    )
    bundle = stix2.Bundle(peer, indicator, sighting, stix2.TLP_GREEN)
    result = import_bundle(bundle.serialize(), _options(agencies={"Bangkok CERT": "TH-CERT"}))
    assert result.rejects == ()
    (fact,) = result.facts
    assert fact.indicator.canonical == "http://login.scam.example/b"
    assert (fact.agency_code, fact.tlp, fact.confidence) == ("TH-CERT", Tlp.GREEN, 90)
    assert fact.note == "reported by 40 victims"
    assert fact.observed_at == T0 + timedelta(hours=1)


def test_import_reads_what_opencti_exports() -> None:
    octi = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"
    phone = {
        "type": "phone-number",
        "spec_version": "2.1",
        "id": "phone-number--1c1a7e6e-0000-5000-8000-000000000001",
        "value": "+855 12 345 678",
        "object_marking_refs": [TLP_MARKING_IDS[Tlp.CLEAR]],
        "extensions": {octi: {"extension_type": "new-sco"}},
    }
    wallet = {
        **phone,
        "type": "cryptocurrency-wallet",
        "id": "cryptocurrency-wallet--1c1a7e6e-0000-5000-8000-000000000002",
        "value": "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW",
    }
    account = {
        "type": "bank-account",
        "spec_version": "2.1",
        "id": "bank-account--1c1a7e6e-0000-5000-8000-000000000003",
        "iban": "GB33BUKB20201555555555",
        "bic": "BUKBGB22",
    }
    result = import_bundle(_bundle(phone, wallet, account), _options())
    assert result.rejects == ()
    assert [(f.indicator.kind, f.indicator.canonical, f.tlp) for f in result.facts] == [
        (IndicatorKind.PHONE, "+85512345678", Tlp.CLEAR),
        (IndicatorKind.CRYPTO_WALLET, "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", Tlp.CLEAR),
        (IndicatorKind.BANK_ACCOUNT, "GB33BUKB20201555555555", Tlp.AMBER),
    ]
    assert {f.observed_at for f in result.facts} == {RECEIVED}


def test_observable_of_an_indicator_is_not_a_second_fact() -> None:
    indicator = INDICATORS[10]  # the sender ID KBANK, a phone-number observable
    bundle = export_bundle([_sighting(indicator)])
    result = import_bundle(bundle, _options())
    assert [f.indicator for f in result.facts] == [indicator]
    alone = [o for o in bundle["objects"] if o["type"] == "phone-number"]
    (fact,) = import_bundle(_bundle(*alone), _options()).facts
    assert fact.indicator == indicator  # its shape says sender ID, not a phone number


def test_agencies_are_mapped_never_trusted() -> None:
    bundle = export_bundle([_sighting(INDICATORS[0]), _sighting(INDICATORS[1], agency=BANK)])
    assert {f.agency_code for f in import_bundle(bundle, _options()).facts} == {"PEER"}
    by_id = {agency_stix_id("MM-KBZ"): "MM-KBZ-LOCAL"}
    codes = [f.agency_code for f in import_bundle(bundle, _options(agencies=by_id)).facts]
    assert codes == ["PEER", "MM-KBZ-LOCAL"]
    by_name = {"Central Investigation Bureau": "CIB"}
    codes = [f.agency_code for f in import_bundle(bundle, _options(agencies=by_name)).facts]
    assert codes == ["CIB", "PEER"]


def test_one_fact_per_agency_that_sighted_it() -> None:
    stix_indicator = _indicator("[domain-name:value = 'a.example']")
    sighting = _stix_sighting(
        stix_indicator["id"],
        where_sighted_refs=[agency_stix_id("A"), agency_stix_id("B"), agency_stix_id("A")],
    )
    mapping = {agency_stix_id("A"): "A", agency_stix_id("B"): "B"}
    facts = import_bundle(_bundle(stix_indicator, sighting), _options(agencies=mapping)).facts
    assert [f.agency_code for f in facts] == ["A", "B"]


@pytest.mark.parametrize(
    ("sighting_refs", "indicator_refs", "expected"),
    [
        ([], [], Tlp.AMBER),  # no marking: the caller's default
        (["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"], [], Tlp.CLEAR),  # WHITE
        ([TLP_MARKING_IDS[Tlp.GREEN], TLP_MARKING_IDS[Tlp.AMBER]], [], Tlp.AMBER),
        ([TLP_MARKING_IDS[Tlp.CLEAR]], [TLP_MARKING_IDS[Tlp.AMBER_STRICT]], Tlp.AMBER_STRICT),
        (["marking-definition--00000000-0000-4000-8000-0000000000aa"], [], Tlp.GREEN),
    ],
)
def test_tlp_is_the_strictest_marking_of_the_fact(
    sighting_refs: list[str], indicator_refs: list[str], expected: Tlp
) -> None:
    stix_indicator = _indicator("[domain-name:value = 'a.example']", markings=indicator_refs)
    sighting = _stix_sighting(stix_indicator["id"], markings=sighting_refs)
    extra = {"marking-definition--00000000-0000-4000-8000-0000000000aa": Tlp.GREEN}
    result = import_bundle(_bundle(stix_indicator, sighting), _options(extra_markings=extra))
    assert [f.tlp for f in result.facts] == [expected]


def test_a_red_fact_is_refused_for_no_one_could_read_it() -> None:
    stix_indicator = _indicator("[domain-name:value = 'a.example']")
    sighting = _stix_sighting(
        stix_indicator["id"], markings=[TLP_MARKING_IDS[Tlp.GREEN], TLP_MARKING_IDS[Tlp.RED]]
    )
    result = import_bundle(_bundle(stix_indicator, sighting), _options())
    assert result.facts == ()
    assert [(r.stix_id, r.field) for r in result.rejects] == [
        (sighting["id"], "object_marking_refs")
    ]
    assert "AMBER+STRICT" in result.rejects[0].reason


def test_lone_indicator_is_a_fact_of_its_author() -> None:
    author = {
        "type": "identity",
        "spec_version": "2.1",
        "id": agency_stix_id("MM-POLICE"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Myanmar Police",
        "x_scamwall_agency_code": "TH-CCIB",  # a claim, ignored unless the caller maps it
    }
    stix_indicator = _indicator(
        "[cryptocurrency-wallet:value = '0x52908400098527886e0f7030069857d2e4169ee7']",
        created_by_ref=author["id"],
        confidence=85,
    )
    (fact,) = import_bundle(_bundle(author, stix_indicator), _options()).facts
    assert fact.indicator.canonical == "0x52908400098527886E0F7030069857D2E4169EE7"
    assert (fact.agency_code, fact.confidence, fact.observed_at) == ("PEER", 85, T0)
    mapped = _options(agencies=lambda peer: "MM-POL" if peer.name == "Myanmar Police" else None)
    assert import_bundle(_bundle(author, stix_indicator), mapped).facts[0].agency_code == "MM-POL"


def test_fact_becomes_a_sighting_through_the_resolver() -> None:
    bundle = _bundle(_indicator("[domain-name:value = 'a.example']"))
    (fact,) = import_bundle(bundle, _options()).facts
    peer = Agency(5, "PEER", "Peer CERT", "KH", AgencyKind.CERT)
    sighting = fact.to_sighting({"PEER": peer}.__getitem__)
    assert sighting.id == fact.sighting_id
    assert sighting.agency is peer


def test_imported_facts_are_recorded_by_the_caller_once(store: Store) -> None:
    peer = store.add_agency("PEER", name="Peer CERT", country="KH", kind=AgencyKind.CERT)
    bundle = export_bundle([_sighting(INDICATORS[0]), _sighting(INDICATORS[9], minutes=5)])
    for _ in range(2):  # a peer sends the same bundle twice: the same facts, stored once
        result = import_bundle(bundle, _options())
        store.record_sightings(list(result.sightings(store.get_agency)))
    analyst = Caller("analyst", Role.ANALYST, user_id=1, agency_id=peer.id, agency_code="PEER")
    view = lookup(store, analyst, INDICATORS[9])
    assert [(s.agency, s.observed_at) for s in view.sightings] == [
        ("PEER", T0 + timedelta(minutes=5, microseconds=5005))
    ]


# --- import: rejects ------------------------------------------------------------------------

_EXPORTED = "".join(iter_bundle_json(_sighting(i, minutes=n) for n, i in enumerate(INDICATORS)))


GOOD = _indicator("[domain-name:value = 'good.example']")
TARGET = _indicator("[domain-name:value = 'target.example']")


def _variant(**changes: Any) -> dict[str, Any]:
    """GOOD changed, under an id of its own."""
    return {**GOOD, "id": f"indicator--{uuid.uuid4()}", **changes}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in _variant().items() if k != name}


BAD_INDICATOR = _indicator("[domain-name:value = 'not a domain']")
BAD_OBJECTS: list[tuple[str, Any, str | None, str]] = [
    ("not an object", 42, None, "expected a JSON object"),
    ("no type", _without("type"), "type", "missing"),
    ("bad id", {**GOOD, "id": "indicator--1234"}, "id", "not a STIX id"),
    ("id of another type", {**GOOD, "id": GOOD["id"].replace("indicator", "sighting")}, "id",
     "names type 'sighting'"),
    ("unknown custom type", {**GOOD, "type": "x-acme-lure", "id": "x-acme-lure--" +
     GOOD["id"].split("--")[1]}, "type", "'x-acme-lure' objects are not imported"),
    ("other STIX type", {**GOOD, "type": "malware", "id": "malware--" + GOOD["id"].split("--")[1]},
     "type", "'malware' objects are not imported"),
    ("STIX 2.0", _variant(spec_version="2.0"), "spec_version", "is not read"),
    ("no pattern", _without("pattern"), "pattern", "missing"),
    ("sigma", _variant(pattern_type="sigma"), "pattern_type", "'sigma' patterns"),
    ("OR", _indicator("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']"),
     "pattern", "uses OR"),
    ("two observations", _indicator("[url:value = 'http://a.example/'] AND [url:value = "
     "'http://b.example/']"), "pattern", "more than one observation"),
    ("two objects", _indicator("[domain-name:value = 'a.example' AND url:value = 'http://a.example/']"),
     "pattern", "two objects"),
    ("unreadable property", _indicator("[domain-name:value_refs = 'x']"), "pattern",
     "value_refs is not one scamwall reads"),
    ("unreadable type", _indicator("[mac-addr:value = 'a1:b2:c3:d4:e5:f6']"), "pattern",
     "mac-addr observables are not imported"),
    ("MD5 only", _indicator("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"), "pattern",
     "SHA-256 only"),
    ("value refused", BAD_INDICATOR, "pattern", "not a valid domain"),
    ("bad time", _variant(valid_from="yesterday"), "valid_from", "not a STIX timestamp"),
    ("no such day", _variant(valid_from="2026-02-30T00:00:00Z"), "valid_from", "not a valid time"),
    ("future", _variant(valid_from="2099-01-01T00:00:00Z"), "valid_from", "in the future"),
    ("confidence text", _variant(confidence="high"), "confidence", "whole number"),
    ("confidence bool", _variant(confidence=True), "confidence", "whole number"),
    ("confidence 101", _variant(confidence=101), "confidence", "whole number"),
    ("unknown marking", _indicator("[domain-name:value = 'm.example']",
     ["marking-definition--00000000-0000-4000-8000-000000000001"]), "object_marking_refs",
     "not a TLP marking scamwall can honour"),
    ("markings not a list", _variant(object_marking_refs=TLP_MARKING_IDS[Tlp.RED]),
     "object_marking_refs", "expected a list"),
    ("revoked", _variant(revoked=True), "revoked", "revoked"),
    ("sighting of nothing here", _stix_sighting("indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8"),
     "sighting_of_ref", "is not in this bundle"),
    ("sighting of a rejected indicator", _stix_sighting(BAD_INDICATOR["id"]), "sighting_of_ref",
     "was rejected"),
    ("sighting of malware", _stix_sighting("malware--6ba7b810-9dad-41d1-80b4-00c04fd430c8"),
     "sighting_of_ref", "sightings of indicators only"),
    ("sighting of a list", {**_stix_sighting(TARGET["id"], note="x"), "sighting_of_ref": [1]},
     "sighting_of_ref", "sightings of indicators only"),
    ("where not a list", _stix_sighting(TARGET["id"], where_sighted_refs=agency_stix_id("A")),
     "where_sighted_refs", "list of identity ids"),
    ("bad legal basis", _stix_sighting(TARGET["id"], x_scamwall_legal_basis={
     "jurisdiction": "Thailand", "instrument": "x"}), "x_scamwall_legal_basis.jurisdiction",
     "ISO 3166"),
    ("note with control characters", _stix_sighting(TARGET["id"], x_scamwall_note="a\x00b"),
     "x_scamwall_note", "control characters"),
    ("unknown source kind", _stix_sighting(TARGET["id"], x_scamwall_source_kind="rumour"),
     "x_scamwall_source_kind", "unknown source kind"),
    ("observable value not text", {"type": "domain-name", "id": "domain-name--" +
     GOOD["id"].split("--")[1], "value": 7}, "value", "expected a string"),
    ("forged marking", {**tlp_marking_definition(Tlp.RED), "extensions": {
     "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
         "extension_type": "property-extension", "tlp_2_0": "clear"}}}, "definition",
     "published TLP:RED marking id"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [case[1:] for case in BAD_OBJECTS],
    ids=[case[0] for case in BAD_OBJECTS],
)
def test_a_bad_object_is_rejected_with_its_reason_and_the_rest_imports(
    bad: Any, field: str | None, reason: str
) -> None:
    extras = [BAD_INDICATOR] if bad is not BAD_INDICATOR and "rejected" in reason else []
    bundle = _bundle(GOOD, TARGET, *extras, copy.deepcopy(bad))
    result = import_bundle(json.dumps(bundle), _options())
    assert "good.example" in [f.indicator.canonical for f in result.facts]
    reject = result.rejects[-1]
    assert reject.index == len(bundle["objects"]) - 1
    assert reject.field == field
    assert reason in reject.reason
    if isinstance(bad, dict) and isinstance(bad.get("id"), str) and "--" in bad["id"]:
        assert reject.stix_id == bad["id"]
        assert bad["id"] in str(reject)
    assert reject.as_dict()["error"] == reject.reason


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = (
    "type", "id", "spec_version", "created", "modified", "revoked", "pattern", "pattern_type",
    "valid_from", "sighting_of_ref", "where_sighted_refs", "created_by_ref", "first_seen",
    "object_marking_refs", "granular_markings", "confidence", "value", "iban", "hashes",
    "account_type", "extensions", "name", "x_scamwall_kind", "x_scamwall_note",
    "x_scamwall_source_kind", "x_scamwall_legal_basis", "x_scamwall_agency_code",
)  # fmt: skip


@given(data=st.data())
def test_a_mangled_bundle_is_rejected_object_by_object_never_crashing(data: st.DataObject) -> None:
    objects = json.loads(_EXPORTED)["objects"]
    for _ in range(data.draw(st.integers(1, 4))):
        target = objects[data.draw(st.integers(0, len(objects) - 1))]
        target[data.draw(st.sampled_from(_FIELDS))] = data.draw(_JSON_VALUES)
    result = import_bundle(_bundle(*objects), _options(agencies=_same_codes))
    assert all(reject.index is not None and reject.reason for reject in result.rejects)
    assert len(result.facts) <= len(INDICATORS)


def test_over_the_size_limits_objects_are_rejected_not_the_bundle() -> None:
    big = {**GOOD, "description": "x" * 5000, "id": f"indicator--{uuid.uuid4()}"}
    result = import_bundle(_bundle(GOOD, big), _options(max_object_bytes=4096))
    assert [r.index for r in result.rejects] == [1]
    assert "over the limit of 4096" in result.rejects[0].reason
    many = [_indicator(f"[domain-name:value = 'n{i}.example']") for i in range(5)]
    result = import_bundle(_bundle(*many), _options(max_objects=3))
    assert len(result.facts) == 3
    assert [(r.index, r.field) for r in result.rejects] == [(3, "objects")]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("{not json", InvalidInput),
        ('{"type": "bundle", "objects": [NaN]}', InvalidInput),
        ("[" * 100_000 + "]" * 100_000, InvalidInput),
        ('{"type": "report"}', InvalidInput),
        ('{"type": "bundle", "objects": {}}', InvalidInput),
        (b'{"type": "bundle", "objects": []}' + b" " * 2000, PayloadTooLarge),
    ],
)
def test_what_is_not_a_bundle_raises(payload: str | bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        import_bundle(
            payload, _options(max_bundle_bytes=1000 if isinstance(payload, bytes) else 10**7)
        )


@pytest.mark.parametrize(
    "wrong",
    [{"default_agency": " "}, {"default_confidence": 101}, {"max_objects": 0}],
)
def test_import_options_refuse_what_cannot_work(wrong: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        _options(**wrong)


def test_empty_bundle_gives_nothing() -> None:
    assert import_bundle('{"type": "bundle", "id": "bundle--x"}', _options()) == StixImportResult(
        (), ()
    )


# --- patterns and the legal basis -----------------------------------------------------------


@given(st.text(min_size=1, max_size=80))
def test_any_value_survives_a_pattern_and_back(value: str) -> None:
    pattern = observable_pattern("url", {"value": value})
    assert read_pattern(pattern) == ("url", {"value": value})


def _read_or_field(text: str) -> tuple[str, dict[str, str]] | str | None:
    try:
        return read_pattern(text)
    except InvalidRecord as exc:
        return exc.field


@given(st.text(max_size=200))
def test_reading_any_pattern_answers_or_refuses_with_a_reason(text: str) -> None:
    outcome = _read_or_field(text)
    assert outcome == "pattern" or (isinstance(outcome, tuple) and outcome[1])


def test_handle_patterns_name_the_platform_and_the_login() -> None:
    handle = parse_indicator("t.me/Scam_Support")
    assert indicator_pattern(handle) == (
        "[user-account:account_type = 'telegram' AND user-account:account_login = 'scam_support']"
    )
    bank = parse_indicator("TH:KBANK:123-4-56789-0")
    assert read_pattern(indicator_pattern(bank)) == (
        "bank-account",
        {"account_number": "1234567890", "x_scamwall_country": "TH", "x_scamwall_bank": "KBANK"},
    )


@pytest.mark.parametrize(
    ("jurisdiction", "instrument"), [("Thailand", "x"), ("th", "x"), ("TH", " "), ("TH", "a\x07")]
)
def test_legal_basis_refuses_what_a_recipient_could_not_act_on(
    jurisdiction: str, instrument: str
) -> None:
    with pytest.raises(InvalidRecord):
        LegalBasis(jurisdiction, instrument)
