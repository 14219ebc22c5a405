"""The demo: a small synthetic sample written for scamwall, loaded into the configured database.

Nothing here is real: phone numbers are drawn from the numbering plans of the region, wallets
are derived from hashes of fixed strings, and domains sit under ``.example`` / ``.test`` (reserved
for documentation by RFC 2606). ``scripts/make_demo_data.py`` writes these files.
"""

from __future__ import annotations

import json
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import distinct, func, select

from scamwall.errors import NotFound, UsageError
from scamwall.exchange.policy import Caller
from scamwall.indicators import extract_indicators
from scamwall.intake import IntakeOptions, IntakeReport, ingest_file
from scamwall.store import Agency, Store
from scamwall.store.access import Access
from scamwall.store.audit import AuditLog
from scamwall.store.database import current_revision, head_revision
from scamwall.store.schema import allowlist_entries, sync_positions
from scamwall.vocabulary import AgencyKind

__all__ = ["DEMO_AGENCIES", "DEMO_FILES", "DEMO_GROUP", "run_demo"]

#: Where the demo's audit entries say they came from.
ORIGIN = "demo"


def _screen_messages(console: Console, store: Store, messages: Traversable) -> None:
    """Screen the demo messages against a snapshot of what was just loaded."""
    from scamwall.reputation import snapshot_for  # noqa: PLC0415 - the demo's last step only
    from scamwall.screening.configured import text_screener  # noqa: PLC0415
    from scamwall.screening.text import Message  # noqa: PLC0415
    from scamwall.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    snapshot = snapshot_for(store, settings)
    rows = [line.split("\t", 1) for line in messages.read_text(encoding="utf-8").splitlines()]
    verdicts = [
        text_screener(settings, region=region).screen([Message(str(n), text)], snapshot)[0]
        for n, (region, text) in enumerate(rows, 1)
    ]
    table = Table(
        "message (synthetic)",
        "verdict",
        "score",
        "category",
        "strongest reason",
        title=f"Screening (reputation snapshot {snapshot.version})",
        show_lines=True,
    )
    for (_, text), verdict in zip(rows, verdicts, strict=True):
        top = verdict.reasons[0] if verdict.reasons else {}
        reason = str(top.get("text") or top.get("rule") or top.get("type", "-"))
        table.add_row(
            text[:50] + ("…" if len(text) > 50 else ""),
            verdict.verdict,
            f"{verdict.score:.2f}",
            verdict.category,
            reason[:60],
        )
    console.print(table)


def _publish_feeds(console: Console, store: Store, actor: Caller) -> None:
    """Publish the enforcement feeds from what was loaded and show the start of the RPZ zone."""
    from scamwall.enforcement.configured import publish_feeds, render_feed  # noqa: PLC0415
    from scamwall.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    publication = publish_feeds(store, settings, caller=actor, origin=ORIGIN)
    removed = sum(publication.removed.values())
    console.print(
        f"Enforcement feeds: serial {publication.serial}, {publication.added} added, "
        f"{removed} removed, {publication.active} on the feeds, "
        f"{publication.conflicts} allowlist conflicts"
    )
    zone = render_feed(store, "rpz", settings).text.splitlines()
    console.print("\n".join(zone[:9] + (["…"] if len(zone) > 9 else [])), markup=False)


#: Rejected rows printed with their reasons (all are counted, and all are in the reject files).
REJECTS_SHOWN = 8


def _show_rejects(console: Console, reports: list[IntakeReport]) -> None:
    """The rows of the sample refused, each with its place, field and reason (the sample holds
    some on purpose), and where the reject files are: the folder ``scamwall ingest`` writes them
    to, named after each file and its import, each replaced by the next run of its file."""
    rejected = [r for r in reports if r.rejected]
    total = sum(r.rejected for r in rejected)
    if not total:
        console.print("no row was rejected")
        return
    table = Table("file", "where", "field", "reason", title=f"Rejected rows ({total}) and why")
    shown = 0
    for report in rejected:
        with report.reject_path.open(encoding="utf-8") as lines:
            for line in lines:
                if shown == REJECTS_SHOWN:
                    break
                entry = json.loads(line)
                where = f"line {entry['line']}" if "line" in entry else f"item {entry['position']}"
                reason = Text(entry["error"])  # a reason may quote brackets: not markup
                table.add_row(report.path.name, where, entry["field"] or "-", reason)
                shown += 1
    console.print(table)
    if total > shown:
        console.print(f"… and {total - shown} more")
    listed = ", ".join(str(r.reject_path.resolve()) for r in rejected)
    console.print(
        f"every rejected row, with the record as read: {listed} (replaced at each run)",
        soft_wrap=True,
        markup=False,
    )


DEMO_AGENCIES = (
    ("CN-MPS", "Anti-fraud centre, Ministry of Public Security (demo)", "CN", AgencyKind.POLICE),
    ("TH-CCIB", "Cyber Crime Investigation Bureau (demo)", "TH", AgencyKind.POLICE),
    ("TH-NBTC", "Telecom regulator (demo)", "TH", AgencyKind.TELECOM_REGULATOR),
    ("MM-MPF", "Police force anti-trafficking unit (demo)", "MM", AgencyKind.POLICE),
    ("LA-MPS", "Ministry of Public Security (demo)", "LA", AgencyKind.POLICE),
)
#: Which agency reports which file; one file per format.
DEMO_FILES = (("th-ccib.csv", "TH-CCIB"), ("cn-mps.ndjson", "CN-MPS"), ("mm-police.json", "MM-MPF"))
#: The sharing group of every demo agency.
DEMO_GROUP = "Mekong joint operation"
#: What the refusal lists of a database's own data, at most.
FOREIGN_SHOWN = 5


def _foreign_data(store: Store) -> list[str]:
    """What the database holds that the demo does not put there: agencies other than the
    demo's own (as the demo registers them: an agency's sightings, users and imports are its
    own), other sharing groups, allowlist entries and peers synchronised with."""
    demo_agencies = {code: (name, country, kind) for code, name, country, kind in DEMO_AGENCIES}
    found = [
        f"agency {agency.code}"
        for agency in store.list_agencies()
        if demo_agencies.get(agency.code) != (agency.name, agency.country, agency.kind)
    ]
    found += [f"group '{g.name}'" for g in Access(store).list_groups() if g.name != DEMO_GROUP]
    with store.reading() as connection:
        allowlisted = connection.execute(
            select(func.count()).select_from(allowlist_entries)
        ).scalar_one()
        peers = connection.execute(select(func.count(distinct(sync_positions.c.peer)))).scalar_one()
    if allowlisted:
        found.append(f"{allowlisted} allowlist entries")
    if peers:
        found.append(f"{peers} peers synchronised with")
    return found


def _refuse_unless_new(store: Store) -> None:
    """Raise :class:`UsageError` unless the database is new or holds only what the demo put in:
    the demo registers agencies, widens a sharing group and publishes feeds, which an instance
    in use must not get."""
    where = store.engine.url.render_as_string(hide_password=True)
    fix = (
        "the demo is for a new install: point SCAMWALL_DATABASE_URL at a new file, e.g. "
        "SCAMWALL_DATABASE_URL=sqlite:///scamwall-demo.db scamwall demo"
    )
    revision = current_revision(store.engine)
    if revision is None:
        return
    if revision != head_revision():  # an install of an earlier version: not changed at all
        raise UsageError(
            f"the database {where} is a scamwall database of an earlier version "
            f"(migration {revision}); {fix}",
            database=where,
        )
    found = _foreign_data(store)
    if found:
        listed = ", ".join(found[:FOREIGN_SHOWN]) + (" …" if len(found) > FOREIGN_SHOWN else "")
        raise UsageError(
            f"the database {where} holds data the demo did not put there ({listed}); {fix}",
            database=where,
        )


def _agency(store: Store, actor: Caller, row: tuple[str, str, str, AgencyKind]) -> Agency:
    """A demo agency, registered (and audited) unless it is there already."""
    code, name, country, kind = row
    try:
        return store.get_agency(code)
    except NotFound:
        agency = store.add_agency(code, name=name, country=country, kind=kind)
    AuditLog(store).record(actor, "agency_add", target=f"agency:{agency.code}", origin=ORIGIN)
    return agency


def _demo_group(store: Store, actor: Caller) -> None:
    """Share the demo agencies' AMBER sightings in the demo group, audited when it changes."""
    access = Access(store)
    members = [code for code, *_ in DEMO_AGENCIES]
    present = next((g for g in access.list_groups() if g.name == DEMO_GROUP), None)
    if present is not None and set(members) <= set(present.members):
        return
    group = access.add_group(
        DEMO_GROUP,
        members=members,
        description="demo: the agencies of the joint operation share AMBER sightings",
    )
    AuditLog(store).record(
        actor,
        "group_add",
        target=f"group:{group.name}",
        detail={"members": members},
        origin=ORIGIN,
    )


def run_demo(store: Store, console: Console, *, actor: Caller) -> None:
    """Initialise ``store``, load the demo sample into it and print what was loaded, and what
    was rejected and why (the reject files go where ``scamwall ingest`` writes them).

    Refused (:class:`UsageError`) on a database holding anything but the demo's own data; every
    write is on the audit trail as ``actor``'s.
    """
    from scamwall.settings import get_settings  # noqa: PLC0415 - as the demo's other steps

    _refuse_unless_new(store)
    store.initialise()
    agencies = {row[0]: _agency(store, actor, row) for row in DEMO_AGENCIES}
    _demo_group(store, actor)
    demo = files("scamwall.demo")
    options = IntakeOptions(reject_dir=Path(get_settings().reject_dir))

    loaded = Table("file", "agency", "accepted", "duplicates", "rejected", title="Demo sample")
    reports = []
    for name, code in DEMO_FILES:
        with as_file(demo / name) as path:
            report = ingest_file(store, path, agencies[code], options, actor=actor)
        reports.append(report)
        loaded.add_row(
            name, code, str(report.accepted), str(report.duplicates), str(report.rejected)
        )
    console.print(loaded)
    _show_rejects(console, reports)

    counts = store.counts()
    totals = Table("indicator kind", "indicators", title="In the database")
    for kind, n in counts.indicators_by_kind.items():
        totals.add_row(kind, str(n))
    console.print(totals)

    found = Table(
        "region", "message (synthetic)", "indicators found", title="Extraction", show_lines=True
    )
    for line in (demo / "messages.tsv").read_text(encoding="utf-8").splitlines():
        region, text = line.split("\t", 1)
        hits = extract_indicators(text, region=region)
        listed = "\n".join(f"{f.indicator.kind.value}: {f.indicator.canonical}" for f in hits)
        found.add_row(region, text[:70] + ("…" if len(text) > 70 else ""), listed or "-")
    console.print(found)
    _screen_messages(console, store, demo / "messages.tsv")
    _publish_feeds(console, store, actor)
    console.print(
        "Try next:\n"
        "  scamwall parse '０８１-２３４-５６７８' 'hxxps://Pay.Example[.]com:443/a/../b' -r TH\n"
        "  echo '加微信 kefu_2026 或致电 138 0013 8000' | scamwall extract --region CN --json\n"
        "  scamwall lookup t.me/job_abroad_hr            (as the public)\n"
        "  scamwall token create --agency CN-MPS --role analyst --user li\n"
        "  scamwall lookup +66925550101 --as <token>     (as that analyst)\n"
        "  echo '您的账户涉嫌洗钱，请立即转账到安全账户' | scamwall screen text\n"
        "  scamwall reputation show t.me/job_abroad_hr\n"
        "  scamwall export rpz --out blocked.rpz         (also unbound, hosts, nft, ipset…)\n"
        "  echo https://pay.boc-verify.test/login | scamwall screen url\n"
        "  scamwall serve                                (the HTTP API, /docs)\n"
        "  scamwall stats"
    )
