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

from scamwall.errors import NotFound
from scamwall.indicators import extract_indicators
from scamwall.intake import IntakeOptions, IntakeReport, ingest_file
from scamwall.store import Agency, Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind

__all__ = ["DEMO_AGENCIES", "DEMO_FILES", "run_demo"]


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


def _publish_feeds(console: Console, store: Store) -> None:
    """Publish the enforcement feeds from what was loaded and show the start of the RPZ zone."""
    from scamwall.enforcement.configured import publish_feeds, render_feed  # noqa: PLC0415
    from scamwall.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    publication = publish_feeds(store, settings)
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
    to, each file replaced by the next run."""
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


def _agency(store: Store, code: str, name: str, country: str, kind: AgencyKind) -> Agency:
    try:
        return store.get_agency(code)
    except NotFound:
        return store.add_agency(code, name=name, country=country, kind=kind)


def run_demo(store: Store, console: Console) -> None:
    """Initialise ``store``, load the demo sample into it and print what was loaded, and what
    was rejected and why (the reject files go where ``scamwall ingest`` writes them)."""
    from scamwall.settings import get_settings  # noqa: PLC0415 - as the demo's other steps

    store.initialise()
    agencies = {row[0]: _agency(store, *row) for row in DEMO_AGENCIES}
    Access(store).add_group(
        "Mekong joint operation",
        members=[code for code, *_ in DEMO_AGENCIES],
        description="demo: the agencies of the joint operation share AMBER sightings",
    )
    demo = files("scamwall.demo")
    options = IntakeOptions(reject_dir=Path(get_settings().reject_dir))

    loaded = Table("file", "agency", "accepted", "duplicates", "rejected", title="Demo sample")
    reports = []
    for name, code in DEMO_FILES:
        with as_file(demo / name) as path:
            report = ingest_file(store, path, agencies[code], options)
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
    _publish_feeds(console, store)
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
