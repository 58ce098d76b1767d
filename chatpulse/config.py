"""Settings: the only module that reads configuration files and the environment.

Sources, later wins: defaults -> YAML file (``chatpulse.yaml`` or ``--config``) -> ``.env`` ->
process environment -> CLI flags (passed as ``overrides``).

Environment names: every setting has a generic name ``CHATPULSE_<SECTION>__<FIELD>`` (e.g.
``CHATPULSE_STORE__DSN``); some also keep a short or seed-compatible name, listed in
:data:`ENV_ALIASES` (the seed's ``SERVER``/``PORT``/``NICKNAME``/``TOKEN``,
``KAFKA_BOOTSTRAP_SERVERS``). Secrets are :class:`SecretStr`; error messages name the setting,
never its value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from chatpulse.errors import ConfigError

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


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/chatpulse``, else ``~/.cache/chatpulse`` (XDG base-directory spec)."""
    base = (os.environ if environ is None else environ).get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "chatpulse"


class Settings(_Section):
    """The whole configuration tree (frozen)."""

    twitch: TwitchSettings = TwitchSettings()
    sentiment: SentimentSettings = SentimentSettings()
    store: StoreSettings = StoreSettings()
    kafka: KafkaSettings = KafkaSettings()
    dashboard: DashboardSettings = DashboardSettings()
    emotes: EmoteSettings = EmoteSettings()


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


def _from_env(env: Mapping[str, str | None]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in env.items():
        if value is None or not value.strip():
            continue  # `TOKEN=` (as in .env.example) means "not set", not "empty token"
        if key in ENV_ALIASES:
            target = ENV_ALIASES[key]
        elif key.startswith(_PREFIX) and "__" in key:
            section, _, name = key[len(_PREFIX) :].lower().partition("__")
            if section not in _SECTIONS:
                continue
            target = f"{section}.{name}"
        else:
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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({exc.__class__.__name__})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: top level must be a mapping of sections")
    return data


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
    if env_file is not None and Path(env_file).is_file():
        tree = _merge(tree, _from_env(dotenv_values(env_file)))
    tree = _merge(tree, _from_env(os.environ if environ is None else environ))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            tree = _merge(tree, {dotted.partition(".")[0]: {dotted.partition(".")[2]: value}})
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
