"""One call, answered while it is being set up: what the switch asks before it connects.

From the current reputation snapshot (reports, and the flags batch analytics turned into
``telecom_detection`` sightings with ``scamwall screen calls --ingest``) and the call itself:

==========================  ==================================================================
flag                        when
==========================  ==================================================================
``reported``                the caller's reputation (reports, recent detections)
``spoofed_caller_id``       a number of the home country arriving over a foreign trunk: the
                            home operators' own subscribers do not come in from abroad
``premium_origin``          the caller is in an international premium or satellite range
                            (+881, +882, +883: one-ring "Wangiri" callbacks cost the victim)
``callee_reported``         the callee is a reported number (a mule's phone, a scam desk):
                            the call may be a victim reaching the gang
==========================  ==================================================================

An allowlisted caller's reputation is not counted (nor ``premium_origin``), but the call is
still checked for ``spoofed_caller_id``: a bank's or the police's number arriving from abroad
is the classic impersonation. Every reason of a ``reported`` flag lists the sightings behind the
score as the caller may see them; a block backed by reports names in ``trace`` the ids of its
CLEAR sightings and the number of restricted ones, beside the snapshot version, as the text
screener does.

A pure function of the call and the snapshot: no database, no I/O (a look-up and a parse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from scamwall.errors import InvalidIndicator, InvalidRecord
from scamwall.indicators import IndicatorKind, parse_indicator
from scamwall.indicators.phone import check_region
from scamwall.reputation.scoring import noisy_or
from scamwall.reputation.snapshot import ReputationSnapshot

__all__ = ["CallScreener", "CallVerdict"]

#: International networks and satellite services favoured by one-ring callbacks.
PREMIUM_PREFIXES = ("+881", "+882", "+883")
#: How strongly each flag alone suggests fraud. A home number over a foreign trunk is a
#: warning, not a block: a subscriber roaming abroad may call home that way.
FLAG_WEIGHT = {"spoofed_caller_id": 0.7, "premium_origin": 0.6, "callee_reported": 0.3}


@dataclass(frozen=True, slots=True)
class CallVerdict:
    """The verdict on one call."""

    caller: str
    callee: str
    verdict: str
    score: float
    flags: list[str] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"caller", "callee", "verdict", "score", "flags", "reasons", "trace"}``."""
        return {
            "caller": self.caller,
            "callee": self.callee,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "flags": self.flags,
            "reasons": self.reasons,
            "trace": self.trace,
        }


class CallScreener:
    """Verdicts for single calls (see the module docstring)."""

    def __init__(
        self,
        *,
        home_country: str = "TH",
        warn_threshold: float = 0.5,
        block_threshold: float = 0.9,
    ) -> None:
        self.home_country = home_country.upper()
        self.warn_threshold = warn_threshold
        self.block_threshold = block_threshold

    def screen(
        self,
        caller: str,
        callee: str,
        snapshot: ReputationSnapshot,
        *,
        trunk_country: str | None = None,
    ) -> CallVerdict:
        """The verdict on a call from ``caller`` to ``callee`` arriving over a trunk of
        ``trunk_country`` (None: a domestic call). Raises :class:`InvalidIndicator` for a
        caller or callee that is no phone number and :class:`InvalidRecord` for a trunk country
        that is no ISO 3166 alpha-2 code, each naming the field."""
        source = self._number(caller, "caller")
        target = self._number(callee, "callee")
        trunk = self._trunk(trunk_country)
        flags: list[str] = []
        reasons: list[dict[str, Any]] = []
        weights: list[float] = []
        sightings: list[str] = []
        restricted = 0
        known = snapshot.lookup_value(IndicatorKind.PHONE, source)
        allowlisted = known is not None and known.allowlisted is not None
        if known is not None and known.allowlisted is not None:
            reasons.append(
                {
                    "type": "allowlisted",
                    **known.allowlisted.as_public_dict(),
                    "text": f"{source} is allowlisted ({known.allowlisted.public_reason}, "
                    f"{known.allowlisted.source}): its reports are not counted, but a call "
                    "from it is still checked for a spoofed caller id",
                }
            )
        elif known is not None and known.score > 0:
            weighing = [e for e in known.evidence if e.weight > 0]
            sightings = sorted({e.sighting_id for e in weighing if not e.restricted})
            restricted = sum(1 for e in weighing if e.restricted)
            flags.append("reported")
            weights.append(known.score)
            reasons.append(
                {
                    "type": "reported",
                    "score": round(known.score, 4),
                    "agencies": known.agencies,
                    "sightings": [e.as_dict() for e in known.evidence],
                    "text": f"{source} is reported by {known.agencies} agencies",
                }
            )
        origin = phonenumbers.region_code_for_number(phonenumbers.parse(source))
        if trunk != self.home_country and origin == self.home_country:
            flags.append("spoofed_caller_id")
            reasons.append(
                {
                    "type": "signal",
                    "signal": "spoofed_caller_id",
                    "text": f"a {self.home_country} number arriving over a trunk from {trunk}"
                    + (" (allowlisted numbers are impersonated too)" if allowlisted else ""),
                }
            )
        if source.startswith(PREMIUM_PREFIXES) and not allowlisted:
            flags.append("premium_origin")
            reasons.append(
                {
                    "type": "signal",
                    "signal": "premium_origin",
                    "text": f"{source[:4]} is an international premium or satellite range",
                }
            )
        called = snapshot.lookup_value(IndicatorKind.PHONE, target)
        if called is not None and called.score >= self.warn_threshold:
            flags.append("callee_reported")
            reasons.append(
                {
                    "type": "signal",
                    "signal": "callee_reported",
                    "text": f"the called number {target} is reported ({called.score:.2f})",
                }
            )
        weights += [FLAG_WEIGHT[flag] for flag in flags if flag in FLAG_WEIGHT]
        score = noisy_or(weights)
        verdict = (
            "block"
            if score >= self.block_threshold
            else "warn"
            if score >= self.warn_threshold
            else "allow"
        )
        trace: dict[str, Any] = {"snapshot": snapshot.version}
        if verdict == "block" and (sightings or restricted):
            trace["sightings"] = sightings
            trace["restricted_sightings"] = restricted
        return CallVerdict(source, target, verdict, score, flags, reasons, trace)

    def _number(self, value: str, name: str) -> str:
        """``value`` as E.164, or :class:`InvalidIndicator` naming the field ``name`` (in its
        message and ``details["field"]``)."""
        try:
            return parse_indicator(value, IndicatorKind.PHONE, self.home_country).canonical
        except InvalidIndicator as exc:
            error = InvalidIndicator(exc.kind, exc.reason, value)
            error.message = f"{name}: {error.message}"
            error.args = (error.message,)
            error.details["field"] = name
            raise error from None

    def _trunk(self, trunk_country: str | None) -> str:
        """The trunk's country, checked as an ISO 3166 alpha-2 code (None: the home country)."""
        if trunk_country is None:
            return self.home_country
        try:
            code = check_region(trunk_country)
        except InvalidIndicator:
            code = None
        if code is None:
            raise InvalidRecord(
                f"{trunk_country!r} is not an ISO 3166 alpha-2 country code (such as TH or KH)",
                field="trunk_country",
            )
        return code
