"""Message screening over HTTP on loopback: single messages under load, and big batches.

A `scamwall serve` process (``--workers``, default 2) screens for a feed client's token (an SMS
gateway). `wrk` (Debian's package) in a second process posts single-message requests drawn from
the shared labelled messages (or the demo's) for ``--seconds``; then one client posts batches of
10,000 messages (one client per worker, at once) and the messages/s are counted.

    python bench/bench_api_screen.py [--seconds 20] [--connections 16] [--workers 2]
                                     [--rates 1000,2000]

Single messages run two ways. Closed loop (``wrk`` at 4 and ``--connections`` connections, each
sending its next request as soon as the last is answered): the most the server gives, and its
latency when saturated (with 16 requests always waiting, the mean latency is 16 / throughput by
Little's law). Open loop (``open_loop.py``, at each rate of ``--rates``): requests sent on a
fixed schedule, each latency counted from when the request was due: the latency at the target's
rate, stalls included.

Targets (issue 4): >= 1,000 single-message requests/s with p99 <= 10 ms; batch endpoint >=
10,000 messages/s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import parse_wrk, serving  # type: ignore[import-not-found]
from open_loop import open_loop, post_request  # type: ignore[import-not-found]
from scamwall.exchange.policy import Role
from scamwall.store import Store
from scamwall.store.access import Access
from scamwall.vocabulary import AgencyKind

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "messages"
DEMO = Path(__file__).resolve().parents[1] / "src" / "scamwall" / "demo" / "messages.tsv"


def _texts() -> list[str]:
    if SHARED.is_dir():
        return [
            json.loads(line)["text"]
            for file in sorted(SHARED.glob("*.jsonl"))
            for line in file.read_text(encoding="utf-8").splitlines()
        ]
    return [line.split("\t", 1)[1] for line in DEMO.read_text(encoding="utf-8").splitlines()]


def _sample(texts: list[str]) -> list[str]:
    return random.Random(5).sample(texts, min(2_000, len(texts)))


def _body(i: int, text: str) -> str:
    return json.dumps({"messages": [{"id": str(i), "text": text}]}, ensure_ascii=False)


def _lua(path: Path, token: str, texts: list[str]) -> None:
    bodies = ",".join("[==[" + _body(i, t) + "]==]" for i, t in enumerate(_sample(texts)))
    path.write_text(
        f"local bodies = {{{bodies}}}\n"
        'local headers = {["Authorization"] = "Bearer ' + token + '", '
        '["Content-Type"] = "application/json"}\n'
        "math.randomseed(7)\n"
        "request = function()\n"
        '  return wrk.format("POST", "/v1/screen/text", headers, bodies[math.random(#bodies)])\n'
        "end\n",
        encoding="utf-8",
    )


def _post(target: str, token: str, messages: list[dict[str, str]]) -> None:
    body = json.dumps({"messages": messages}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{target}/v1/screen/text",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.status == 200
        response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rates",
        default="1000,2000",
        help="requests/s of the open-loop runs, comma-separated",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print("command:", " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]))
    texts = _texts()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'bench.db'}"
        store = Store.open(url, require_schema=False)
        store.initialise()
        store.add_agency("TH-NBTC", name="bench", country="TH", kind=AgencyKind.TELECOM_REGULATOR)
        token = (
            Access(store)
            .issue_token_for(agency_code="TH-NBTC", role=Role.FEED, user_name="sms-gateway")
            .secret
        )
        store.close()
        with serving(url, args.workers) as port:
            script = workdir / "screen.lua"
            _lua(script, token, texts)
            target = f"http://127.0.0.1:{port}"
            for connections in sorted({4, args.connections}):
                base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", str(script)]
                subprocess.run([*base, "-d3s", target], capture_output=True, check=True)
                result = subprocess.run(
                    [*base, f"-d{args.seconds}s", target],
                    capture_output=True,
                    check=True,
                    text=True,
                )
                rps, p99, non2xx, total = parse_wrk(result.stdout)
                met = "met" if rps >= 1000 and p99 <= 10 else "NOT met"
                print(
                    f"single messages, {connections} connections, closed loop: {rps:,.0f} "
                    f"requests/s, p99 {p99:.1f} ms, non-2xx {non2xx} of {abs(total):,} "
                    f"(target >= 1,000/s with p99 <= 10 ms: {met})"
                )
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            requests = [
                post_request("127.0.0.1", port, "/v1/screen/text", _body(i, t).encode(), headers)
                for i, t in enumerate(_sample(texts))
            ]
            for rate in (int(r) for r in args.rates.split(",")):
                run = open_loop("127.0.0.1", port, requests, rate=rate, seconds=args.seconds)
                p99 = run.percentile(0.99)
                kept_up = run.answered == run.sent and not run.failed
                met = "met" if rate >= 1000 and kept_up and p99 <= 10 else "NOT met"
                print(
                    f"single messages, open loop at {rate:,}/s: {run.rate:,.0f} answered/s, "
                    f"p50 {run.percentile(0.5):.1f} ms, p99 {p99:.1f} ms, max "
                    f"{run.percentile(1.0):.1f} ms, failed {run.failed} of {run.sent:,}"
                    f"{f' {dict(run.failures)}' if run.failures else ''}, "
                    f"{run.connections} connections (target >= 1,000/s with p99 <= 10 ms: {met})"
                )
            batches = [
                [{"id": str(i), "text": texts[(start + i) % len(texts)]} for i in range(10_000)]
                for start in range(0, 80_000, 10_000)
            ]
            _post(target, token, batches[0][:100])
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                list(pool.map(lambda batch: _post(target, token, batch), batches))
            elapsed = time.perf_counter() - started
            sent = sum(len(b) for b in batches)
            print(
                f"batches of 10,000: {sent / elapsed:,.0f} messages/s over {sent:,} messages, "
                f"{args.workers} clients at once (target >= 10,000/s: "
                f"{'met' if sent / elapsed >= 10_000 else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
