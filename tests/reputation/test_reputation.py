"""Reputation: the scoring formula, allowlists that always win, snapshots, false positives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from scamwall.errors import InvalidIndicator, InvalidInput, NotFound
from scamwall.exchange.policy import Caller, Role
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.reputation import snapshot as snapshot_module
from scamwall.reputation.allowlist import (
    AllowEntry,
    Allowlist,
    add_allowlist_entry,
    load_allowlist,
    operator_entries,
    remove_allowlist_entry,
    shipped_entries,
)
from scamwall.reputation.false_positives import report_false_positive
from scamwall.reputation.scoring import SOURCE_WEIGHT, ScoringRules, noisy_or
from scamwall.reputation.snapshot import build_snapshot
from scamwall.store import Store
from scamwall.store.audit import AuditLog
from scamwall.store.records import Sighting
from scamwall.vocabulary import AgencyKind, SourceKind, Tlp

NOW = datetime(2026, 11, 1, tzinfo=UTC)
OPERATOR = Caller(name="cli:ops", role=Role.ADMIN)
NOTHING_SHIPPED = Allowlist(())


@pytest.fixture
def agencies(store: Store) -> Store:
    store.add_agency("TH-POLICE", name="Thai police", country="TH", kind=AgencyKind.POLICE)
    store.add_agency("CN-MPS", name="Chinese police", country="CN", kind=AgencyKind.POLICE)
    store.add_agency("MM-OPS", name="Myanmar operator", country="MM", kind=AgencyKind.OPERATOR)
    return store


def _report(
    store: Store,
    value: str,
    agency: str,
    *,
    days_ago: float = 0,
    confidence: int = 100,
    tlp: Tlp = Tlp.GREEN,
    source: SourceKind = SourceKind.POLICE_CASE,
    ref: str | None = None,
) -> None:
    sighting = Sighting(
        indicator=parse_indicator(value, region="TH"),
        agency=store.get_agency(agency),
        observed_at=NOW - timedelta(days=days_ago),
        source_kind=source,
        confidence=confidence,
        tlp=tlp,
        evidence_ref=ref,
    )
    store.record_sightings([sighting])


def _score(store: Store, value: str, **kwargs: object) -> float:
    snapshot = build_snapshot(store, now=NOW, allowlist=NOTHING_SHIPPED, **kwargs)  # type: ignore[arg-type]
    found = snapshot.lookup(parse_indicator(value, region="TH"))
    return found.score if found is not None else 0.0


def test_noisy_or_combines_independent_witnesses() -> None:
    assert noisy_or([]) == 0
    assert noisy_or([0.7, 0.7]) == pytest.approx(0.91)


def test_weight_halves_every_half_life() -> None:
    rules = ScoringRules()
    fresh = rules.sighting_weight(
        IndicatorKind.URL,
        trust=1,
        source_kind=SourceKind.POLICE_CASE,
        confidence=100,
        age_seconds=0,
    )
    old = rules.sighting_weight(
        IndicatorKind.URL,
        trust=1,
        source_kind=SourceKind.POLICE_CASE,
        confidence=100,
        age_seconds=30 * 86_400,
    )
    assert fresh == 1.0
    assert old == pytest.approx(0.5)


def test_enforcement_receipts_never_strengthen_a_score() -> None:
    assert SOURCE_WEIGHT[SourceKind.ENFORCEMENT_RECEIPT] == 0


def test_one_agency_counts_once_and_consensus_raises_the_score(agencies: Store) -> None:
    _report(agencies, "0812345678", "TH-POLICE", ref="a", confidence=70)
    one = _score(agencies, "0812345678")
    assert one == pytest.approx(0.9 * 0.7)
    for n in range(5):
        _report(agencies, "0812345678", "TH-POLICE", ref=f"again-{n}", confidence=70)
    assert _score(agencies, "0812345678") == pytest.approx(one)
    _report(agencies, "0812345678", "CN-MPS", confidence=70)
    assert _score(agencies, "0812345678") == pytest.approx(1 - (1 - one) ** 2)


def test_old_reports_fade(agencies: Store) -> None:
    _report(agencies, "https://old.example/pay", "TH-POLICE", days_ago=60)
    _report(agencies, "https://new.example/pay", "TH-POLICE")
    assert _score(agencies, "https://old.example/pay") == pytest.approx(0.9 / 4)
    assert _score(agencies, "https://new.example/pay") == pytest.approx(0.9)


def test_restricted_markings_do_not_count_and_only_clear_names_the_agency(
    agencies: Store,
) -> None:
    _report(agencies, "0811111111", "TH-POLICE", tlp=Tlp.RED)
    _report(agencies, "0822222222", "TH-POLICE", tlp=Tlp.AMBER_STRICT)
    _report(agencies, "0833333333", "TH-POLICE", tlp=Tlp.CLEAR)
    _report(agencies, "0833333333", "CN-MPS", tlp=Tlp.AMBER)
    snapshot = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    assert snapshot.lookup(parse_indicator("0811111111", region="TH")) is None
    assert snapshot.lookup(parse_indicator("0822222222", region="TH")) is None
    both = snapshot.lookup(parse_indicator("0833333333", region="TH"))
    assert both is not None
    assert both.agencies == 2
    assert sorted(str(e.agency) for e in both.evidence) == ["None", "TH-POLICE"]
    strict_rules = ScoringRules.from_settings(half_life_days={}, agency_trust={}, max_tlp="clear")
    assert _score(agencies, "0833333333", rules=strict_rules) == pytest.approx(0.9)


def test_operator_trust_overrides_the_kind_default(agencies: Store) -> None:
    _report(agencies, "0844444444", "MM-OPS")
    assert _score(agencies, "0844444444") == pytest.approx(0.8)
    rules = ScoringRules.from_settings(
        half_life_days={"phone": 10}, agency_trust={"mm-ops": 0.5}, max_tlp="amber"
    )
    assert _score(agencies, "0844444444", rules=rules) == pytest.approx(0.5)


def test_false_positive_reports_lower_the_score_and_are_audited(agencies: Store) -> None:
    _report(agencies, "0855555555", "MM-OPS")
    before = _score(agencies, "0855555555")
    analyst = Caller(name="th-analyst", role=Role.ANALYST, agency_code="TH-POLICE")
    report = report_false_positive(
        agencies,
        "085 555 5555",
        agency_code="TH-POLICE",
        caller=analyst,
        region="TH",
        note="the pharmacy's number",
    )
    assert report.indicator.canonical == "+66855555555"
    assert _score(agencies, "0855555555") == pytest.approx(before * (1 - 0.9))
    # one voice per agency: the same desk saying it again does not talk the score down further
    for _ in range(4):
        report_false_positive(
            agencies, "0855555555", agency_code="TH-POLICE", caller=analyst, region="TH"
        )
    assert _score(agencies, "0855555555") == pytest.approx(before * (1 - 0.9))
    assert AuditLog(agencies).entries()[-1].action == "false_positive.report"
    # a report on a value nobody reported is kept (and counts once someone does)
    report_false_positive(agencies, "scam-free.example", agency_code="CN-MPS", caller=analyst)
    with pytest.raises(NotFound):
        report_false_positive(
            agencies, "0855555555", agency_code="XX-NONE", caller=analyst, region="TH"
        )


def test_the_public_may_not_report_false_positives(agencies: Store) -> None:
    with pytest.raises(Exception, match="may not"):
        report_false_positive(
            agencies,
            "0855555555",
            agency_code="TH-POLICE",
            caller=Caller.anonymous(),
            region="TH",
        )


def test_allowlist_wins_over_any_report(agencies: Store) -> None:
    _report(agencies, "login.kasikornbank.com", "TH-POLICE")
    _report(agencies, "https://sites.google.com/view/kbank-refund", "TH-POLICE")
    snapshot = build_snapshot(agencies, now=NOW)
    bank = snapshot.lookup(parse_indicator("login.kasikornbank.com"))
    assert bank is not None
    assert bank.score == 0
    assert bank.sightings == 1
    assert bank.allowlisted is not None
    assert bank.allowlisted.source == "shipped:official"
    # a page on a shared host is judged by its own reports; the host itself stays protected
    page = snapshot.lookup(parse_indicator("https://sites.google.com/view/kbank-refund"))
    assert page is not None
    assert page.score == pytest.approx(0.9)
    host = snapshot.lookup(parse_indicator("sites.google.com"))
    assert host is not None
    assert host.allowlisted is not None
    assert host.score == 0


def test_shipped_allowlist_covers_government_suffixes_banks_and_hotlines() -> None:
    allow = Allowlist(shipped_entries())
    assert allow.match(IndicatorKind.DOMAIN, "www.royalthaipolice.go.th") is not None
    assert allow.match(IndicatorKind.DOMAIN, "www.mps.gov.cn") is not None
    assert allow.match(IndicatorKind.SMS_SENDER, "96110") is not None
    assert allow.match(IndicatorKind.DOMAIN, "google.com") is not None
    assert allow.match(IndicatorKind.DOMAIN, "go.th.scam.example") is None
    assert allow.match(IndicatorKind.DOMAIN, "kasikornbank.com.verify.example") is None
    assert len(allow) > 1000


@pytest.mark.parametrize(
    ("host", "covered"),
    [
        ("www.google.com", True),
        ("mail.google.com", True),
        ("online.kasikornbank.com", True),
        ("www.rd.go.th", True),  # a public suffix reaches every name below it
        # a platform's customers: below a boundary of the suffix list's private part
        ("evil.s3.amazonaws.com", False),
        ("paypal-login.web.core.windows.net", False),
        ("kbank-verify.blob.core.windows.net", False),
        # platforms of user subdomains that the suffix list does not name
        ("paypal-login-verify.weebly.com", False),
        ("kbank-secure.wordpress.com", False),
        ("scb-verify.sharepoint.com", False),
        ("weebly.com", True),
        ("www.wordpress.com", True),
        ("ourblog.files.wordpress.com", True),  # a label the platform runs itself
        ("kbank-refund.tumblr.com", False),
        ("64.media.tumblr.com", True),
        ("kbank-login.typeform.com", False),
        ("form.typeform.com", True),
        ("kbank.squarespace.com", False),
        ("static1.squarespace.com", True),
        ("kbank-th.medium.com", False),
        # platforms whose subdomains are their own services stay covered whole
        ("hooks.slack.com", True),
        ("lh3.googleusercontent.com", True),
        ("sts.amazonaws.com", True),
    ],
)
def test_an_allowlisted_name_covers_what_its_owner_runs_not_what_it_hands_out(
    host: str, covered: bool
) -> None:
    allow = Allowlist(shipped_entries())
    assert (allow.match(IndicatorKind.DOMAIN, host) is not None) is covered


def test_an_entry_of_a_platforms_suffix_covers_no_user_site() -> None:
    """github.io is a suffix of the list's private part: an entry of it is the platform's own
    name, not its users' sites, as go.th (ICANN) is every Thai government site."""
    entry = AllowEntry(IndicatorKind.DOMAIN, "github.io", "the platform", "operator")
    allow = Allowlist([entry])
    assert allow.match(IndicatorKind.DOMAIN, "github.io") == entry
    assert allow.match(IndicatorKind.DOMAIN, "kbank-login.b.github.io") is None


def test_an_operator_entry_below_a_platform_covers_its_own_subdomains() -> None:
    entry = AllowEntry(IndicatorKind.DOMAIN, "ourbank.sharepoint.com", "our tenant", "operator")
    allow = Allowlist([entry])
    assert allow.match(IndicatorKind.DOMAIN, "files.ourbank.sharepoint.com") == entry
    assert allow.match(IndicatorKind.DOMAIN, "other.sharepoint.com") is None


def test_operator_allowlist_add_remove_and_networks(store: Store) -> None:
    entry = add_allowlist_entry(store, "203.0.113.0/24", reason="our resolvers", caller=OPERATOR)
    assert entry.kind is IndicatorKind.CIDR
    assert add_allowlist_entry(store, "203.0.113.0/24", reason="again", caller=OPERATOR) == entry
    add_allowlist_entry(store, "FARM-CO-OP", kind="sms_sender", reason="co-op", caller=OPERATOR)
    allow = load_allowlist(store, shipped=False)
    assert allow.match(IndicatorKind.IP, "203.0.113.9") == entry
    assert allow.match(IndicatorKind.IP, "203.0.114.9") is None
    assert allow.match(IndicatorKind.SMS_SENDER, "farm-co-op") is not None
    removed = remove_allowlist_entry(store, "203.0.113.0/24", caller=OPERATOR)
    assert removed.reason == "our resolvers"
    assert [e.value for e in operator_entries(store)] == ["farm-co-op"]
    with pytest.raises(NotFound, match="allow list"):
        remove_allowlist_entry(store, "203.0.113.0/24", caller=OPERATOR)
    actions = [e.action for e in AuditLog(store).entries()]
    assert actions.count("allowlist.add") == 2
    assert actions.count("allowlist.remove") == 1


@pytest.mark.parametrize(
    ("value", "reason", "error"),
    [("not a value", "x", InvalidIndicator), ("good.example", "  ", InvalidInput)],
)
def test_bad_allowlist_entries_are_refused(
    store: Store, value: str, reason: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        add_allowlist_entry(store, value, reason=reason, caller=OPERATOR)


def test_a_build_ignores_what_is_written_between_its_scans(
    agencies: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indicators are read, then sightings, each statement at its own moment: a sighting of a
    new indicator (or a new agency) written in between is left to the next build, where it
    had failed the build with a KeyError while intake ran."""
    _report(agencies, "0812345678", "TH-POLICE")
    scans = 0
    original = snapshot_module.stream_rows

    def scan_then_write(connection: Any, query: Any) -> Iterator[Any]:
        nonlocal scans
        scans += 1
        yield from original(connection, query)
        if scans == 1:  # after the names, before the sightings
            agencies.add_agency("LA-MPS", name="Lao police", country="LA", kind=AgencyKind.POLICE)
            _report(agencies, "0898765432", "TH-POLICE")
            _report(agencies, "0812345678", "LA-MPS")

    monkeypatch.setattr(snapshot_module, "stream_rows", scan_then_write)
    snapshot = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    assert scans == 2
    assert snapshot.lookup(parse_indicator("0898765432", region="TH")) is None
    found = snapshot.lookup(parse_indicator("0812345678", region="TH"))
    assert found is not None
    assert found.agencies == 1
    monkeypatch.undo()
    later = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    assert later.lookup(parse_indicator("0898765432", region="TH")) is not None


def test_snapshot_version_names_its_inputs(agencies: Store) -> None:
    first = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    again = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    assert first.version == again.version
    _report(agencies, "0866666666", "TH-POLICE")
    changed = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED)
    assert changed.version != first.version
    assert len(changed) == len(first) + 1
    assert changed.lookup(parse_indicator("0877777777", region="TH")) is None


def test_allow_entry_is_json_ready() -> None:
    entry = AllowEntry(IndicatorKind.DOMAIN, "go.th", "government", "shipped:official")
    assert entry.as_dict()["value"] == "go.th"


def test_ages_do_not_depend_on_the_database_session_time_zone_or_date_style(
    database_url: str,
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        options = url.query.get("options", "")
        session = "-ctimezone=Asia/Bangkok -cdatestyle=German"
        url = url.update_query_dict({"options": f"{options} {session}".strip()})
    store = Store.open(url.render_as_string(hide_password=False), require_schema=False)
    try:
        store.initialise()
        store.add_agency("TH-POLICE", name="police", country="TH", kind=AgencyKind.POLICE)
        _report(store, "0812345678", "TH-POLICE", days_ago=90)
        found = build_snapshot(store, now=NOW, allowlist=NOTHING_SHIPPED).lookup(
            parse_indicator("0812345678", region="TH")
        )
        assert found is not None
        assert found.score == pytest.approx(0.9 * 0.5)  # one half-life of a phone number
        assert found.evidence[0].observed_at == NOW - timedelta(days=90)
    finally:
        store.close()


@pytest.mark.parametrize("source", [SourceKind.VICTIM_REPORT, SourceKind.PARTNER_FEED])
@pytest.mark.parametrize(("value", "kind"), [("0899999999", "phone"), ("x.example", "domain")])
def test_the_build_weighs_sightings_exactly_as_the_formula(
    agencies: Store, source: SourceKind, value: str, kind: str
) -> None:
    """The snapshot build computes the formula inline (a call per row costs seconds over
    millions); this holds the two equal."""
    _report(agencies, value, "MM-OPS", days_ago=17, confidence=63, source=source)
    found = build_snapshot(agencies, now=NOW, allowlist=NOTHING_SHIPPED).lookup(
        parse_indicator(value, region="TH")
    )
    assert found is not None
    expected = ScoringRules().sighting_weight(
        IndicatorKind(kind),
        trust=0.8,
        source_kind=source,
        confidence=63,
        age_seconds=17 * 86_400,
    )
    assert found.evidence[0].weight == pytest.approx(expected, rel=1e-6)
    assert found.score == pytest.approx(expected, rel=1e-6)
