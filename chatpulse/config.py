"""Settings: the only module that reads configuration files and the environment.

Sources, later wins: defaults -> YAML file (``chatpulse.yaml`` or ``--config``) -> ``.env`` ->
process environment -> CLI flags (passed as ``overrides``).

Environment names: every setting has a generic name ``CHATPULSE_<SECTION>__<FIELD>`` (e.g.
``CHATPULSE_STORE__DSN``); some also keep a short or seed-compatible name, listed in
:data:`ENV_ALIASES` (the seed's ``SERVER``/``PORT``/``NICKNAME``/``TOKEN``,
``KAFKA_BOOTSTRAP_SERVERS``). Secrets are :class:`SecretStr`; error messages name the setting,
never its value. ``.env`` is read by :mod:`chatpulse.dotenv_file` (its problems as our messages).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from chatpulse.alerts.urls import check_url
from chatpulse.dotenv_file import read_env_file
from chatpulse.errors import ConfigError
from chatpulse.textfile import read_text

DEFAULT_CONFIG_FILE = "chatpulse.yaml"
CHANNEL_PATTERN = r"^[a-z0-9_]{1,25}$"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TwitchSettings(_Section):
    """Where and how to read Twitch chat."""

    irc_url: str | None = None  # ircs://host:port, irc://host:port, wss://host/path, ws://host:port
    server: str | None = None  # seed's SERVER
    port: int | None = None  # seed's PORT (6667 = plain TCP)
    nickname: str | None = None  # seed's NICKNAME; anonymous justinfanNNNN when no token
    token: SecretStr | None = None  # seed's TOKEN, "oauth:..." or bare
    channels: tuple[str, ...] = ()
    channels_per_connection: int = Field(50, ge=1, le=1000)
    joins_per_window: int = Field(20, ge=1)  # Twitch: 20 JOINs per 10 s per account
    join_window_s: float = Field(10.0, gt=0)
    # EventSub WebSocket (--source eventsub|both): a user token with scope user:read:chat and the
    # client id of the application it was issued to.
    source: Literal["irc", "eventsub", "both"] = "irc"
    client_id: str | None = None
    eventsub_url: str = "wss://eventsub.wss.twitch.tv/ws"
    helix_url: str = "https://api.twitch.tv/helix"
    validate_url: str = "https://id.twitch.tv/oauth2/validate"


class SentimentSettings(_Section):
    """Which analyzer scores messages."""

    analyzer: Literal["lexicon", "transformer"] = "lexicon"
    model: str = "cardiffnlp/twitter-roberta-base-sentiment-latest"
    backend: Literal["onnx", "torch"] = "onnx"
    device: str = "cpu"
    batch_size: int = Field(64, ge=1)
    max_length: int = Field(64, ge=8, le=512)  # transformer: tokens kept per message (chat is short)
    emote_normalization: bool = True  # transformer: emotes -> emoji before the model (LUL -> 😂)
    emote_map: Path | None = None  # transformer: extra emote<TAB>emoji TSV, overrides the shipped one
    lexicon: Path | None = None  # lexicon: replaces the shipped Twitch lexicon TSV


class StoreSettings(_Section):
    """Where events are stored: ``chdb:///path`` (embedded) or ``clickhouse://user@host:port/db``."""

    dsn: str = "chdb:///./data/chatpulse"
    password: SecretStr | None = None  # ClickHouse server password; never in the DSN
    ttl_days: int | None = Field(None, ge=1)  # retention; None keeps everything


class KafkaSettings(_Section):
    """Kafka client and topics."""

    properties_file: Path | None = None  # librdkafka client.properties
    bootstrap_servers: str | None = None
    topic_raw: str = "chatpulse.chat.raw.v1"
    topic_enriched: str = "chatpulse.chat.enriched.v1"
    topic_deadletter: str = "chatpulse.chat.deadletter.v1"
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    group_prefix: str = Field("chatpulse", min_length=1)  # consumer groups <prefix>-enrich, <prefix>-sink
    spool_dir: Path = Path("data/kafka-spool")  # producer spool while the broker is unreachable
    spool_max_mb: int = Field(1024, ge=1)  # per process; when full the source is slowed down


AlertKindName = Literal["hype", "mood_drop", "raid", "gift_bomb", "chat_stopped"]


class WebhookSettings(_Section):
    """One alert webhook. The URL holds its token (Discord, Slack): a secret, never logged whole."""

    url: SecretStr
    format: Literal["auto", "discord", "slack", "json"] = "auto"  # auto: by the URL's host
    kinds: tuple[AlertKindName, ...] = ()  # the alerts this webhook gets; empty = all

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        problem = check_url(url.get_secret_value())  # never quotes the URL: it is a credential
        if problem is not None:
            raise ValueError(problem)
        return url


class AlertSettings(_Section):
    """Webhook alerts (``chatpulse run``): hype, mood drops, raids, gift bombs, chat that stops."""

    # A list of URLs or of {url, format, kinds}; in the environment, URLs separated by spaces.
    webhooks: tuple[WebhookSettings, ...] = ()
    dashboard_url: str | None = None  # links in alerts; default: the dashboard this run serves
    on_replay: bool = False  # replays and back-filled history fire alerts too (--alerts-on-replay)
    raid_min_viewers: int = Field(50, ge=0)
    gift_bomb_min: int = Field(20, ge=1)  # gifted subs in one submysterygift
    mood_min_drop: float = Field(0.15, gt=0, le=2)  # mean sentiment (-1..1) below the baseline ...
    mood_k: float = Field(3.0, gt=0)  # ... and by more than this many robust standard deviations
    mood_min_messages: int = Field(20, ge=1)  # scored messages a minute needs to be judged
    silence_minutes: float = Field(5.0, gt=0)  # chat stopped: no message for this long ...
    active_per_minute: float = Field(2.0, gt=0)  # ... on a channel that had this many a minute
    coverage_grace_s: float = Field(60.0, ge=0)  # a coverage gap shorter than this is no alert
    cooldown_s: float = Field(600.0, ge=0)  # per channel: hype, chat stopped (mood: 1.5x)
    event_cooldown_s: float = Field(60.0, ge=0)  # per channel: raids, gift bombs
    queue_size: int = Field(100, ge=1)  # alerts waiting per webhook; the oldest is dropped beyond
    timeout_s: float = Field(10.0, gt=0)  # per request
    max_attempts: int = Field(5, ge=1)
    max_backoff_s: float = Field(60.0, gt=0)
    drain_s: float = Field(5.0, ge=0)  # at shutdown, how long queued alerts may still take

    @field_validator("webhooks", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # CHATPULSE_ALERTS__WEBHOOKS="https://a/... https://b/..."
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            return [{"url": item} if isinstance(item, str) else item for item in value]
        return value


class DashboardSettings(_Section):
    """The web dashboard's bind address, and the token that guards its channel control."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Needed for POST /api/channels/{name}/join|part on a non-loopback bind (Bearer token).
    control_token: SecretStr | None = None


class EmoteSettings(_Section):
    """Third-party emotes (7TV, BTTV, FFZ): cache folder, refresh interval, API base URLs."""

    cache_dir: Path | None = None  # None: user_cache_dir() / "emotes"
    refresh_interval_s: float = Field(6 * 3600.0, gt=0)  # cached sets older than this are refetched
    timeout_s: float = Field(10.0, gt=0)
    seventv_api: str = "https://7tv.io/v3"
    bttv_api: str = "https://api.betterttv.net/3"
    ffz_api: str = "https://api.frankerfacez.com/v1"

    def cache_folder(self) -> Path:
        """Where the emote sets are cached: ``cache_dir``, else the user's cache folder."""
        return self.cache_dir or user_cache_dir() / "emotes"


class PrivacySettings(_Section):
    """Who is never stored, and whether users are stored under a keyed hash (``chatpulse forget``)."""

    # Logins or Twitch user ids, one per line ('#' comments); applied at ingest on every path,
    # re-read when it changes; `chatpulse forget` adds to it. A missing file = nobody opted out.
    opt_out: Path = Path("data/opt-out.txt")
    hash_users: bool = False  # store HMAC-SHA256(hash_key, login/id) instead of logins and ids
    # The HMAC key; set it in the environment (CHATPULSE_PRIVACY__HASH_KEY), not in a file
    # that is shared. Changing it changes every pseudonym.
    hash_key: SecretStr | None = None

    @model_validator(mode="after")
    def _key_for_hashing(self) -> PrivacySettings:
        if self.hash_users and (self.hash_key is None or len(self.hash_key.get_secret_value()) < 16):
            raise ValueError("hash_users needs hash_key of 16+ characters (CHATPULSE_PRIVACY__HASH_KEY)")
        return self


class StreamSettings(_Section):
    """Streams: chat sessions cut at silences (no Twitch credentials) and how often ``run`` updates them."""

    gap_minutes: float = Field(30.0, gt=0)  # a silence this long ends a chat session
    update_interval_s: float = Field(30.0, gt=0)  # run: the open sessions are recomputed this often
    poll_interval_s: float = Field(60.0, ge=10)  # run with Twitch credentials: Helix /streams polls


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/chatpulse``, else ``~/.cache/chatpulse`` (XDG base-directory spec)."""
    base = (os.environ if environ is None else environ).get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "chatpulse"


class Settings(_Section):
    """The whole configuration tree (frozen)."""

    twitch: TwitchSettings = TwitchSettings()
    sentiment: SentimentSettings = SentimentSettings()
    alerts: AlertSettings = AlertSettings()
    store: StoreSettings = StoreSettings()
    kafka: KafkaSettings = KafkaSettings()
    dashboard: DashboardSettings = DashboardSettings()
    emotes: EmoteSettings = EmoteSettings()
    privacy: PrivacySettings = PrivacySettings()
    streams: StreamSettings = StreamSettings()


ENV_ALIASES: dict[str, str] = {
    "SERVER": "twitch.server",
    "PORT": "twitch.port",
    "NICKNAME": "twitch.nickname",
    "TOKEN": "twitch.token",
    "TWITCH_CLIENT_ID": "twitch.client_id",
    "CHATPULSE_IRC_URL": "twitch.irc_url",
    "CHATPULSE_STORE": "store.dsn",
    "CLICKHOUSE_PASSWORD": "store.password",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka.bootstrap_servers",
    "KAFKA_PROPERTIES": "kafka.properties_file",
}
_PREFIX = "CHATPULSE_"
_SECTIONS = tuple(Settings.model_fields)


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, name = dotted.partition(".")
    tree.setdefault(section, {})[name] = value


def setting_of(key: str) -> str | None:
    """The dotted setting an environment name sets (``PORT`` -> ``twitch.port``), or None."""
    if key in ENV_ALIASES:
        return ENV_ALIASES[key]
    if key.startswith(_PREFIX) and "__" in key:
        section, _, name = key[len(_PREFIX) :].lower().partition("__")
        if section in _SECTIONS:
            return f"{section}.{name}"
    return None


def _from_env(env: Mapping[str, str | None]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in env.items():
        if value is None or not value.strip():
            continue  # `TOKEN=` (as in .env.example) means "not set", not "empty token"
        target = setting_of(key)
        if target is None:
            continue
        if target.endswith(".channels"):
            _set(tree, target, tuple(c.strip() for c in value.split(",") if c.strip()))
        else:
            _set(tree, target, value)
    return tree


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    text = read_text(path, f"config file {path}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise ConfigError(f"config file {path}{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: top level must be a mapping of sections")
    return data


# Twitch IRC's ports (dev.twitch.tv/docs/irc, "Connecting to the Twitch IRC server"): 6667 plain
# TCP, 6697 TLS, and 80 / 443 for its WebSocket endpoints.
TWITCH_IRC_PORTS: Final = frozenset({6667, 6697, 80, 443})
log = logging.getLogger(__name__)


def _warn_about_seed_port(port: str | None, tree: Mapping[str, Any]) -> None:
    """The seed's ``PORT`` sets the Twitch IRC port; a generic ``PORT=8080`` (a web port, as many
    tools read it) would silently point Twitch's host at a port it does not serve. The name stays
    (the seed's ``.env`` files keep working), but a value that looks wrong is said aloud."""
    if port is None or not port.strip().isdigit() or tree.get("twitch", {}).get("server") is not None:
        return  # no PORT, a value validation reports, or a SERVER of one's own (any port may be right)
    if int(port) not in TWITCH_IRC_PORTS:
        log.warning(
            "PORT=%s went to the Twitch IRC port (setting twitch.port), but Twitch IRC listens on "
            "6667/6697; for the dashboard's port set CHATPULSE_DASHBOARD__PORT or pass --port",
            port.strip(),
        )


def load_settings(
    config_file: str | Path | None = None,
    env_file: str | Path | None = ".env",
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every source and validate; raises :class:`ConfigError` naming the bad setting.

    ``overrides`` maps dotted names (``"twitch.channels"``) to values from CLI flags; ``None``
    values are ignored so unset flags never hide a file or env value.
    """
    tree: dict[str, Any] = {}
    if config_file is not None:
        tree = _read_yaml(Path(config_file))
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        tree = _read_yaml(Path(DEFAULT_CONFIG_FILE))
    from_file: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).is_file():
        from_file = read_env_file(Path(env_file), setting_of)
        tree = _merge(tree, _from_env(from_file))
    env = os.environ if environ is None else environ
    tree = _merge(tree, _from_env(env))
    _warn_about_seed_port(env.get("PORT") or from_file.get("PORT"), tree)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            tree = _merge(tree, {dotted.partition(".")[0]: {dotted.partition(".")[2]: value}})
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
