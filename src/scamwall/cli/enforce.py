"""Enforcement commands: feeds and their export, receipts, appeals, URL screening and the
domain model behind it."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, Annotated, Any, NamedTuple

import typer
from rich.table import Table
from sqlalchemy import func, select

from scamwall.cli.common import (
    JsonFlag,
    app,
    emit,
    err,
    local_operator,
    opened_store,
    out,
    store_if_present,
)
from scamwall.cli.screen import model_app, save_trained, screen_app
from scamwall.enforcement.appeals import decide_appeal, list_appeals, submit_appeal
from scamwall.enforcement.blocklist import Blocklist
from scamwall.enforcement.configured import publish_feeds, render_feed
from scamwall.enforcement.feeds import feed_state
from scamwall.enforcement.formats import FORMATS
from scamwall.enforcement.receipts import record_receipts
from scamwall.errors import InvalidInput, NotFound, UsageError
from scamwall.reputation import snapshot_for
from scamwall.settings import get_settings
from scamwall.store import Store
from scamwall.store.schema import appeals, feed_serials

feeds_app = typer.Typer(
    help="The enforcement feeds: publish, status, receipts.", no_args_is_help=True
)
appeal_app = typer.Typer(help="Appeals against feed entries.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(appeal_app, name="appeal")

#: Lines of URLs screened at a time.
URL_BATCH = 5_000


@app.command("export")
def export(
    form: Annotated[
        str,
        typer.Argument(
            help="rpz, unbound, hosts, dnsmasq, nft, ipset or numbers (CSV; JSON when --out "
            "ends in .json, or numbers.json)."
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="File to write; '-' for stdout.")],
    since: Annotated[
        int | None,
        typer.Option(help="Write the changes since this serial instead of the whole feed."),
    ] = None,
    serial: Annotated[
        int | None, typer.Option(help="Write the feed at this serial (default: the newest).")
    ] = None,
    no_publish: Annotated[
        bool,
        typer.Option(
            "--no-publish", help="Export what is published; do not publish the current state."
        ),
    ] = False,
) -> None:
    """Write one enforcement feed. Unless --no-publish or --serial, the current reputation is
    published first (a new serial when anything changed)."""
    name = form.lower()
    if name == "numbers" and out_file.suffix.lower() == ".json":
        name = "numbers.json"
    if name not in FORMATS:
        raise InvalidInput(f"unknown feed format {form!r}; use one of {', '.join(FORMATS)}")
    if str(out_file) != "-":  # before publishing: a bad path must not cost a serial
        if out_file.is_dir():
            raise UsageError(f"--out {out_file} is a folder; give the file to write")
        if not out_file.parent.is_dir():
            raise NotFound(f"no folder {out_file.parent} to write {out_file.name} in; create it")
    settings = get_settings()
    with opened_store() as store:
        if not no_publish and serial is None:
            publication = publish_feeds(store, settings, caller=local_operator())
            err.print(_publication_line(publication.as_dict()))
        rendered = render_feed(store, name, settings, since=since, serial=serial)
    if str(out_file) == "-":
        sys.stdout.buffer.write(rendered.body)
    elif out_file.exists() and not out_file.is_file():
        # a device or a pipe (/dev/null, a FIFO a resolver reads): written in place; renaming a
        # file over it would replace the device itself
        try:
            with out_file.open("wb") as written:
                written.write(rendered.body)
        except OSError as exc:
            raise UsageError(f"cannot write {out_file}: {exc.strerror}") from None
        err.print(f"wrote {out_file}: {rendered.format} at serial {rendered.serial}")
    else:
        # written beside and renamed: a consumer reading the file never sees half of it
        partial_file = out_file.with_name(f".{out_file.name}.partial")
        try:
            partial_file.write_bytes(rendered.body)
            partial_file.replace(out_file)
        except OSError as exc:
            partial_file.unlink(missing_ok=True)
            raise UsageError(f"cannot write {out_file}: {exc.strerror}") from None
        err.print(f"wrote {out_file}: {rendered.format} at serial {rendered.serial}")


def _publication_line(result: dict[str, Any]) -> str:
    removed = sum(result["removed"].values())
    state = "new serial" if result["changed"] else "unchanged, serial"
    return (
        f"feeds {state} {result['serial']}: {result['added']} added, {removed} removed, "
        f"{result['active']} on the feeds, {result['conflicts']} allowlist conflicts"
    )


@feeds_app.command("publish")
def feeds_publish(as_json: JsonFlag = False) -> None:
    """Bring the feeds in line with the current reputation; a new serial if anything changed.
    Values both reported and allowlisted are listed as conflicts (never exported)."""
    with opened_store() as store:
        result = publish_feeds(store, get_settings(), caller=local_operator()).as_dict()
    if as_json:
        emit(result)
        return
    out.print(_publication_line(result))
    for conflict in result["conflicts_shown"]:
        by = conflict["allowlisted_by"]
        source = f" ({by['source']}: {by['reason']})" if by else ""
        out.print(
            f"  kept off: {conflict['kind']} {conflict['value']} scores {conflict['score']}: "
            f"{conflict['reason']}{source}",
            soft_wrap=True,
        )


@feeds_app.command("status")
def feeds_status(
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Serials to show, newest first.")
    ] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The newest serials: when, from which snapshot, what changed."""
    query = select(feed_serials).order_by(feed_serials.c.serial.desc()).limit(limit)
    with opened_store() as store, store.reading() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        row["published_at"] = row["published_at"].isoformat()
    if as_json:
        for row in rows:
            emit(row)
        return
    table = Table(title="enforcement feeds")
    for column in ("serial", "published_at", "added", "removed", "active", "snapshot_version"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[str(column.header)]) for column in table.columns))
    out.print(table if rows else "nothing published yet: `scamwall feeds publish`")


class _ReceiptFile(NamedTuple):
    """The hit counts of a receipts file, where each came from, and the lines unread."""

    items: list[Any]
    #: where each item is: "line N" (JSON lines, CSV) or "item N" (a JSON array)
    places: list[str]
    problems: list[str]


def _receipt_items(path: Path) -> _ReceiptFile:
    """Hit counts from JSON lines ``{"value", "hits", "kind"?}``, a JSON array of them, or CSV
    with a header ``value,hits[,kind]`` (a byte-order mark and CRLF line ends, as spreadsheets
    save it, are read too). A line that cannot be read is a problem; the others go on."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    found = _ReceiptFile([], [], [])
    start = text.lstrip()[:1]
    if start == "[":
        try:
            array = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"line {exc.lineno}: not JSON ({exc.msg})", line=exc.lineno
            ) from None
        found.items.extend(array)
        found.places.extend(f"item {n}" for n in range(1, len(array) + 1))
        return found
    if start == "{":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                found.items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                found.problems.append(f"line {number}: not JSON ({exc.msg})")
                continue
            found.places.append(f"line {number}")
        return found
    reader = csv.DictReader(text.splitlines())
    if "value" not in [name.strip().lower() for name in reader.fieldnames or ()]:
        raise InvalidInput(f"{path}: the CSV needs a header line naming its columns: value,hits")
    for row in reader:
        cells = {(name or "").strip().lower(): (cell or "").strip() for name, cell in row.items()}
        if not any(cells.values()):
            continue
        hits = cells.get("hits", "")
        found.items.append(
            {
                "value": cells.get("value") or None,
                "kind": cells.get("kind") or None,
                "hits": int(hits) if hits.isdigit() else hits,
            }
        )
        found.places.append(f"line {reader.line_num}")
    return found


@feeds_app.command("receipts")
def feeds_receipts(
    source: Annotated[Path, typer.Argument(help="Hit counts: JSON lines or CSV value,hits.")],
    consumer: Annotated[str, typer.Option(help="The resolver, firewall or switch that blocked.")],
    agency: Annotated[str, typer.Option(help="Code of the agency operating it.")],
    period_start: Annotated[str | None, typer.Option(help="ISO 8601 start of the period.")] = None,
    period_end: Annotated[str | None, typer.Option(help="ISO 8601 end (default now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record hit counts a feed consumer reported, as sightings (enforcement receipts)."""
    if not source.is_file():
        raise NotFound(f"no file {source}")
    read = _receipt_items(source)
    items = read.items
    with opened_store() as store:
        found = store.get_agency(agency)
        caller = replace(local_operator(), agency_id=found.id, agency_code=found.code)
        result = record_receipts(
            store,
            caller,
            consumer=consumer,
            hits=items,
            period_start=period_start,
            period_end=period_end,
            max_batch=max(len(items), 1),
            blocklist=Blocklist.from_state(feed_state(store)),
        )
    rejected = [{**problem, "where": read.places[problem["index"]]} for problem in result.rejected]
    if as_json:
        emit({**result.as_dict(), "rejected": rejected, "unread": read.problems})
        return
    out.print(
        f"{result.accepted} receipts recorded, {result.duplicates} already known, "
        f"{len(result.rejected) + len(read.problems)} rejected"
    )
    for unread in read.problems:
        out.print(f"  {unread}")
    for problem in rejected:
        out.print(f"  {problem['where']}: {problem['field']}: {problem['error']}")


@appeal_app.command("submit")
def appeal_submit(
    value: Annotated[str, typer.Argument(help="The blocked domain, URL, address or number.")],
    evidence: Annotated[str, typer.Option(help="Why the entry is wrong.")],
    contact: Annotated[str | None, typer.Option(help="How to tell the result.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Appeal against the feed entry that blocks a value."""
    with opened_store() as store:
        appeal = submit_appeal(
            store, value, evidence=evidence, contact=contact, caller=local_operator()
        )
    if as_json:
        emit(appeal.as_dict())
        return
    out.print(f"appeal {appeal.id} against {appeal.kind.value} {appeal.value}: pending")


@appeal_app.command("list")
def appeal_list(
    status: Annotated[
        str | None, typer.Option(help="pending, accepted or rejected (default: all).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Appeals to show, oldest first.")
    ] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Appeals, oldest first; when more exist than --limit shows, stderr says how many (the
    newest are the ones left out)."""
    with opened_store() as store:
        found = list_appeals(store, status=status, limit=limit)
        total = len(found) if len(found) < limit else _appeal_count(store, status)
    if as_json:
        for appeal in found:
            emit(appeal.as_dict())
    else:
        table = Table(title="appeals")
        for column in ("id", "status", "kind", "value", "submitted_at", "evidence"):
            table.add_column(column, overflow="fold")
        for a in found:
            table.add_row(
                str(a.id), a.status, a.kind.value, a.value, a.submitted_at.isoformat(), a.evidence
            )
        out.print(table)
    if total > len(found):
        which = f"{status} appeals" if status else "appeals"
        err.print(
            f"{len(found)} of {total} {which} shown, the oldest; use --limit {total} to see all"
            + ("" if status else ", or --status pending")
        )


def _appeal_count(store: Store, status: str | None) -> int:
    """How many appeals there are (of ``status``), to say what a limited list leaves out."""
    query = select(func.count()).select_from(appeals)
    if status is not None:
        query = query.where(appeals.c.status == status)
    with store.reading() as connection:
        return int(connection.execute(query).scalar_one())


@appeal_app.command("decide")
def appeal_decide(
    appeal_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="The appeal's id.")],
    note: Annotated[str, typer.Option(help="Why.")],
    accept: Annotated[
        bool, typer.Option("--accept", help="Accept: the entries come off every feed.")
    ] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject: nothing changes.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Decide an appeal. Accepting takes the entry off every feed at a new serial and marks its
    sightings disputed."""
    if accept == reject:  # a decision cannot be undone: never guess which flag was meant
        raise UsageError("give exactly one of --accept and --reject")
    with opened_store() as store:
        appeal = decide_appeal(store, appeal_id, accept=accept, note=note, caller=local_operator())
    if as_json:
        emit(appeal.as_dict())
        return
    removed = (
        f"; off the feeds at serial {appeal.removed_at_serial}"
        if appeal.removed_at_serial is not None
        else ""
    )
    out.print(f"appeal {appeal.id} {appeal.status}{removed}")


def _text_lines(source: str) -> IO[str]:
    return sys.stdin if source == "-" else Path(source).open(encoding="utf-8", errors="replace")


@screen_app.command("url")
def screen_url(
    source: Annotated[
        str, typer.Argument(help="URLs, domain names or IP addresses, one a line; '-': stdin.")
    ] = "-",
    model: Annotated[
        Path | None, typer.Option("--model", help="Domain model file; the shipped one if absent.")
    ] = None,
) -> None:
    """Screen URLs, domains and IP addresses: one JSON line each, in input order,
    {"input", "verdict", "score", "category", "reasons"} or {"input", "error"}."""
    if source != "-" and not Path(source).is_file():
        raise NotFound(f"no file {source}")
    # the domain model loads only for this command (every other command starts faster)
    from scamwall.screening.domain_model import DomainModel  # noqa: PLC0415
    from scamwall.screening.web import WebScreener  # noqa: PLC0415

    settings = get_settings()
    screener = WebScreener(DomainModel.load(model), block_threshold=settings.screen_block_threshold)
    store = store_if_present()
    try:
        snapshot = snapshot_for(store, settings)
        blocklist = Blocklist.from_state(feed_state(store)) if store is not None else None
    finally:
        if store is not None:
            store.close()
    with _text_lines(source) as stream:
        batch: list[str] = []
        for line in stream:
            batch.append(line.rstrip("\r\n"))
            if len(batch) >= URL_BATCH:
                for verdict in screener.screen(batch, snapshot, blocklist):
                    emit(verdict.as_dict())
                batch = []
        for verdict in screener.screen(batch, snapshot, blocklist):
            emit(verdict.as_dict())


def _domain_table(report: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("list", "n", "recall", "fpr (benign)", "recall@fpr1%", "category right"):
        table.add_column(column, justify="left" if column == "list" else "right")
    apart = []
    for name in ("scam", "phishing", "gambling"):
        row = report.get(name)
        if row:
            table.add_row(
                name,
                str(row["n"]),
                str(row["recall"]),
                str(row["fpr"]),
                str(row["recall_at_fpr_1pct"]),
                str(row["category_right"]),
            )
            bare = row.get("bare", {}).get("recall_at_fpr_1pct", "-")
            fronted = row.get("fronted", {}).get("recall_at_fpr_1pct", "-")
            apart.append(f"{name} {bare} / {fronted} / {row.get('on_benign_domain', '-')}")
    table.caption = (
        "recall@fpr1% of bare names / of names with labels in front / hosts on a registered "
        "domain of the benign list: " + ", ".join(apart)
    )
    return table


@model_app.command("train-domains")
def model_train_domains(
    data: Annotated[
        Path, typer.Option("--data", help="Folder of the domain lists (scam, phishing, …).")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Model file to write (.npz; not '-': a file).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Train the domain model (split by a hash of the registered domain) and write it with its
    model card (.md beside it)."""
    from scamwall.screening.domain_training import (  # noqa: PLC0415 - scikit-learn: slow import
        render_domain_card,
        train_domain_model,
    )

    if str(out_file) == "-":  # before a minute of training: a model and its card are files
        raise UsageError("--out names the model file to write (its card goes beside it), not '-'")
    if not data.is_dir():
        raise NotFound(f"no folder {data}")
    err.print("training the domain model (about a minute)…")
    trained, report = train_domain_model(data)
    save_trained(
        trained, render_domain_card(trained.card), out_file, report, _domain_table, as_json=as_json
    )


@model_app.command("eval-domains")
def model_eval_domains(
    data: Annotated[Path, typer.Option("--data", help="Folder of the domain lists.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Domain model file; the shipped one if absent.")
    ] = None,
    split: Annotated[str, typer.Option(help="all, train, dev or test.")] = "test",
    as_json: JsonFlag = False,
) -> None:
    """Recall per list and false-positive rate on the benign top sites, at the model's threshold
    and at a 1% false-positive rate."""
    from scamwall.screening.domain_model import DomainModel  # noqa: PLC0415
    from scamwall.screening.domain_training import evaluate_domain_model  # noqa: PLC0415

    if not data.is_dir():
        raise NotFound(f"no folder {data}")
    loaded = DomainModel.load(model)
    report = evaluate_domain_model(loaded, data, split=split)
    if as_json:
        emit(report)
        return
    out.print(_domain_table(report, f"{split} split, model {loaded.version}"))
