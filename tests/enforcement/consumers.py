"""The programs operators load our enforcement feeds into, run for real by the tests.

A feed is only as good as the program that loads it, so the enforcement tests hand what the
writers produce to those programs:

``named_checkzone(zone_file, origin)``
    BIND's ``named-checkzone ORIGIN FILE``: the RPZ zone parses, has one SOA and an NS, and no
    name holds a CNAME beside other data. The checker's whole report comes back in a
    :class:`CheckResult`.
``nft_check(script)``
    ``nft -c -f FILE``: nftables parses the script and the kernel validates it in a transaction
    that is then thrown away, so nothing is loaded. Set types, overlapping intervals and set
    sizes are all checked. This needs netlink (CAP_NET_ADMIN). Where that is forbidden, the test
    is skipped and the skip message quotes nft.
``running_unbound(directory, *, rpz_zone_file, rpz_origin, authoritative, unbound_include)``
    Unbound in the foreground on 127.0.0.1 at a free port. It loads the RPZ zone through its
    ``rpz:`` clause (``rpz-log: yes``) and/or reads our local-zone feed through an ``include:``
    at the end of its ``server:`` clause (the feed may or may not open with ``server:``). It
    yields a :class:`Resolver` that queries it with dnspython and reads back the RPZ actions
    Unbound logged. Unbound is stopped (terminate, then kill) when the block ends.

Each helper skips the calling test, naming the Debian package to install, when its program is
missing. Programs are looked up on ``PATH`` and then in ``/usr/sbin`` and ``/sbin``, where
Debian installs ``unbound`` and ``nft`` (those two directories are not on a normal user's
``PATH``).

How Unbound is kept off the network
-----------------------------------
The names the tests resolve come from a zone of our own. ``authoritative`` ({name: address}) is
written as a *root* zone file. Unbound loads it as an ``auth-zone`` for ``.`` with
``for-upstream: yes`` and ``fallback-enabled: no``, so the iterator takes every answer, for
any name, from that file. A name not in it is NXDOMAIN from the local root. Unbound never
primes the root hints and never sends a query out. ``module-config: "respip iterator"``
leaves out the validator, so no trust anchor is read or fetched. There is no
``remote-control`` clause, and only IPv4 loopback is used. Under strace, the only datagrams
Unbound sent were its replies to 127.0.0.1.

Three Unbound behaviours the configuration and the tests depend on (Unbound 1.17):

* Unbound's built-in local zones for special-use names (``test.``, ``invalid.``, ...) answer
  NXDOMAIN before resolution, and so before RPZ. With one of them active, ``scam.test`` would
  be NXDOMAIN whether or not the feed listed it. ``local-zone: "NAME." nodefault`` switches
  them off for ``test.``, ``invalid.`` and every top-level name ``authoritative`` uses.
* ``local-data`` and ``local-zone`` answer before RPZ. A name with local data is never
  rewritten by the RPZ zone, though names below it still are.
* A walled-garden rule (``name CNAME warning.host.``) is answered with that CNAME, and Unbound
  follows it: the reply also carries the warning host's address.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

#: Where Debian installs daemons and nft; searched after ``PATH``.
SYSTEM_BIN_DIRS: tuple[str, ...] = ("/usr/sbin", "/sbin")

#: The Debian package that ships each program, named in skip messages.
DEBIAN_PACKAGES = {"named-checkzone": "bind9-utils", "nft": "nftables", "unbound": "unbound"}

#: How long a checker may run, and how long Unbound gets to start answering.
CHECK_TIMEOUT = 120.0
UNBOUND_START_TIMEOUT = 10.0
UNBOUND_STOP_TIMEOUT = 5.0

#: Built-in Unbound local zones under which the tests' names may live.
_SPECIAL_USE_ZONES = ("test.", "invalid.")

_RPZ_APPLIED = re.compile(
    r"rpz: applied (?:\[(?P<zone>[^\]]*)\] )?(?P<trigger>\S+) (?P<action>\S+) "
    r"(?P<client>\S+) (?P<qname>\S+) (?P<qtype>\S+) (?P<qclass>\S+)"
)


@dataclass(frozen=True)
class CheckResult:
    """A checker's verdict on one file: whether it passed, and everything it printed."""

    ok: bool
    output: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    """One answer record: owner name, type and value as text (an address, a CNAME target)."""

    name: str
    rdtype: str
    value: str


@dataclass(frozen=True)
class Answer:
    """What the resolver said: the rcode's name (``NOERROR``, ``NXDOMAIN``) and its answers."""

    rcode: str
    records: tuple[Record, ...]

    def values(self, rdtype: str) -> list[str]:
        """The values of the answer records of one type, in order."""
        return [record.value for record in self.records if record.rdtype == rdtype]

    @property
    def addresses(self) -> list[str]:
        """The A and AAAA addresses in the answer."""
        return [r.value for r in self.records if r.rdtype in {"A", "AAAA"}]

    @property
    def cname_targets(self) -> list[str]:
        """The CNAME targets in the answer, in the order of the chain."""
        return self.values("CNAME")


@dataclass(frozen=True)
class RpzHit:
    """One ``rpz: applied`` line of Unbound's log: which trigger fired, with what action."""

    trigger: str
    action: str
    qname: str
    qtype: str


@dataclass(frozen=True)
class Resolver:
    """A running Unbound: its loopback address and port, and its log."""

    port: int
    log_file: Path
    host: str = "127.0.0.1"

    def query(self, name: str, rdtype: str = "A", *, timeout: float = 2.0) -> Answer:
        """Ask the resolver (recursion desired) and return its rcode and answer records."""
        request = dns.message.make_query(name, rdtype)
        response, _ = dns.query.udp_with_fallback(
            request, self.host, port=self.port, timeout=timeout
        )
        records = tuple(
            Record(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rdata.to_text())
            for rrset in response.answer
            for rdata in rrset
        )
        return Answer(dns.rcode.to_text(response.rcode()), records)

    def log(self) -> str:
        """Everything Unbound has written to its log so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def rpz_hits(self) -> list[RpzHit]:
        """The RPZ rules Unbound has applied so far, oldest first (from ``rpz-log``)."""
        return [
            RpzHit(m["trigger"], m["action"], m["qname"], m["qtype"])
            for m in _RPZ_APPLIED.finditer(self.log())
        ]


def find_program(name: str) -> str:
    """The path of ``name``, or skip the calling test saying which package provides it."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_BIN_DIRS])
    path = shutil.which(name, path=search)
    if path is None:
        package = DEBIAN_PACKAGES.get(name, name)
        pytest.skip(f"{name} is not installed (Debian package {package})")
    return path


def _run_check(command: list[str]) -> CheckResult:
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False
    )
    output = (completed.stdout + completed.stderr).strip()
    return CheckResult(completed.returncode == 0, output, tuple(command))


def named_checkzone(zone_file: Path, origin: str) -> CheckResult:
    """``named-checkzone ORIGIN FILE``: does BIND load the zone? Its full report is kept."""
    return _run_check([find_program("named-checkzone"), origin, str(zone_file)])


def nft_check(script: Path) -> CheckResult:
    """``nft -c -f FILE``: would nftables and the kernel accept the script? Nothing is loaded.

    Skips the test when nft may not talk to netlink (no CAP_NET_ADMIN, a sandbox); nft then
    says "Operation not permitted". Syntax errors are still reported without netlink.
    """
    result = _run_check([find_program("nft"), "-c", "-f", str(script)])
    if not result.ok and "Operation not permitted" in result.output:
        pytest.skip(f"nft -c needs netlink, which is not permitted here: {result.output}")
    return result


def free_udp_tcp_port() -> int:
    """A port free on loopback now for both UDP and TCP, as a DNS server needs."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _absolute(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def write_root_zone(path: Path, authoritative: Mapping[str, str]) -> None:
    """A root zone file holding one A or AAAA record per name of ``authoritative``."""
    lines = [
        "$TTL 300",
        ". IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 300",
        ". IN NS localhost.",
    ]
    for name, address in authoritative.items():
        rdtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
        lines.append(f"{_absolute(name)} IN {rdtype} {address}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _quoted(value: str | Path) -> str:
    text = str(value)
    if '"' in text:
        raise ValueError(f"an Unbound configuration value cannot hold a double quote: {text!r}")
    return f'"{text}"'


def unbound_config(
    *,
    directory: Path,
    port: int,
    root_zone_file: Path,
    rpz_zone_file: Path | None,
    rpz_origin: str,
    unbound_include: Path | None,
    authoritative: Mapping[str, str],
) -> str:
    """The text of an unbound.conf that answers only from local files (see the module doc)."""
    top_level = {_absolute(name).rstrip(".").rsplit(".", 1)[-1] + "." for name in authoritative}
    nodefault = sorted(top_level.union(_SPECIAL_USE_ZONES) - {"."})
    server = [
        "server:",
        "    interface: 127.0.0.1",
        f"    port: {port}",
        "    do-ip4: yes",
        "    do-ip6: no",
        "    do-daemonize: no",
        "    use-systemd: no",
        '    username: ""',
        '    chroot: ""',
        f"    directory: {_quoted(directory)}",
        '    pidfile: ""',
        '    logfile: ""',
        "    use-syslog: no",
        "    verbosity: 1",
        '    module-config: "respip iterator"',
        "    access-control: 127.0.0.0/8 allow",
        *(f"    local-zone: {_quoted(zone)} nodefault" for zone in nodefault),
    ]
    if unbound_include is not None:
        server.append(f"    include: {_quoted(unbound_include.resolve())}")
    clauses = [
        "\n".join(server),
        "\n".join(
            [
                "auth-zone:",
                '    name: "."',
                f"    zonefile: {_quoted(root_zone_file.resolve())}",
                "    for-upstream: yes",
                "    for-downstream: no",
                "    fallback-enabled: no",
            ]
        ),
    ]
    if rpz_zone_file is not None:
        clauses.append(
            "\n".join(
                [
                    "rpz:",
                    f"    name: {_quoted(_absolute(rpz_origin))}",
                    f"    zonefile: {_quoted(rpz_zone_file.resolve())}",
                    "    rpz-log: yes",
                ]
            )
        )
    return "\n".join(clauses) + "\n"


def _answers(port: int) -> bool:
    try:
        dns.query.udp(dns.message.make_query(".", "SOA"), "127.0.0.1", port=port, timeout=0.2)
    except (OSError, dns.exception.Timeout):
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=UNBOUND_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=UNBOUND_STOP_TIMEOUT)


@contextmanager
def running_unbound(
    directory: Path,
    *,
    rpz_zone_file: Path | None = None,
    rpz_origin: str = "rpz.scamwall.",
    authoritative: Mapping[str, str],
    unbound_include: Path | None = None,
) -> Iterator[Resolver]:
    """Unbound on a free loopback port with the given feeds, stopped when the block ends.

    ``directory`` receives unbound.conf, the root zone written from ``authoritative`` and
    Unbound's log. The test fails, quoting that log, if Unbound exits or does not answer within
    ``UNBOUND_START_TIMEOUT`` seconds (a feed it refuses to load makes it exit).
    """
    program = find_program("unbound")
    directory.mkdir(parents=True, exist_ok=True)
    root_zone_file = directory / "root.zone"
    write_root_zone(root_zone_file, authoritative)
    config_file = directory / "unbound.conf"
    log_file = directory / "unbound.log"
    for _attempt in range(3):
        port = free_udp_tcp_port()
        config_file.write_text(
            unbound_config(
                directory=directory,
                port=port,
                root_zone_file=root_zone_file,
                rpz_zone_file=rpz_zone_file,
                rpz_origin=rpz_origin,
                unbound_include=unbound_include,
                authoritative=authoritative,
            ),
            encoding="utf-8",
        )
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [program, "-d", "-c", str(config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + UNBOUND_START_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(port):
                    break
                time.sleep(0.02)
            else:
                log_text = log_file.read_text(encoding="utf-8", errors="replace")
                if process.returncode is not None and "Address already in use" in log_text:
                    continue  # another program took the port since it was picked
                state = (
                    f"exited with status {process.returncode}"
                    if process.returncode is not None
                    else f"did not answer within {UNBOUND_START_TIMEOUT:g} s"
                )
                pytest.fail(
                    f"unbound {state}; configuration {config_file}; its log:\n{log_text}",
                    pytrace=False,
                )
            yield Resolver(port=port, log_file=log_file)
            return
        finally:
            _stop(process)
    pytest.fail("unbound found no free port in three attempts", pytrace=False)
