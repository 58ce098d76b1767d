"""Where to connect and how to log in to Twitch IRC. Pure: no sockets, no clocks.

The endpoint is one setting, ``twitch.irc_url`` (``CHATPULSE_IRC_URL``):

========================  =============================================
``ircs://host:port``      TLS over TCP (Twitch: ``irc.chat.twitch.tv:6697``, the default)
``irc://host:port``       plain TCP (Twitch: port 6667); only when asked for explicitly
``wss://host/path``       WebSocket over TLS (Twitch: ``irc-ws.chat.twitch.tv:443``)
``ws://host:port/path``   plain WebSocket (Twitch: port 80)
========================  =============================================

The seed's ``SERVER``/``PORT`` still work when no URL is set: port 6667 means plain TCP, any
other port TLS. Ports and hosts are those of dev.twitch.tv/docs/irc ("Connecting to the Twitch
IRC server").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from chatpulse.config import TwitchSettings
from chatpulse.errors import ConfigError

Transport = Literal["tls", "tcp", "wss", "ws"]

TWITCH_IRC_HOST: Final = "irc.chat.twitch.tv"
TWITCH_TLS_PORT: Final = 6697
TWITCH_PLAIN_PORT: Final = 6667
_DEFAULT_PORTS: Final[dict[str, int]] = {"ircs": 6697, "irc": 6667, "wss": 443, "ws": 80}
_TRANSPORTS: Final[dict[str, Transport]] = {"ircs": "tls", "irc": "tcp", "wss": "wss", "ws": "ws"}

# Twitch asks for these three capabilities to get tags, its own commands (CLEARCHAT, USERNOTICE,
# ROOMSTATE, ...) and JOIN/PART echoes (dev.twitch.tv/docs/irc/capabilities).
CAPABILITIES: Final = ("twitch.tv/tags", "twitch.tv/commands", "twitch.tv/membership")


@dataclass(frozen=True, slots=True)
class IrcEndpoint:
    """A resolved endpoint: how to reach the server."""

    transport: Transport
    host: str
    port: int
    path: str = "/"  # WebSocket only

    @property
    def encrypted(self) -> bool:
        return self.transport in ("tls", "wss")

    @property
    def websocket_url(self) -> str:
        return f"{self.transport}://{self.host}:{self.port}{self.path}"

    def describe(self) -> str:
        """Human-readable, for logs (an endpoint holds no secret)."""
        if self.transport in ("ws", "wss"):
            return self.websocket_url
        return f"{'ircs' if self.transport == 'tls' else 'irc'}://{self.host}:{self.port}"


def parse_irc_url(url: str, setting: str = "twitch.irc_url") -> IrcEndpoint:
    """``ircs://host:port`` and friends -> :class:`IrcEndpoint`; :class:`ConfigError` names ``setting``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _TRANSPORTS:
        raise ConfigError(f"invalid setting {setting}: scheme must be one of ircs, irc, wss, ws")
    if not parts.hostname:
        raise ConfigError(f"invalid setting {setting}: no host")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError(f"invalid setting {setting}: port must be a number in 0-65535") from None
    transport = _TRANSPORTS[scheme]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return IrcEndpoint(transport, parts.hostname, port, path)


def endpoint_from_settings(settings: TwitchSettings) -> IrcEndpoint:
    """``irc_url`` when set, else the seed's ``server``/``port``, else Twitch over TLS."""
    if settings.irc_url:
        return parse_irc_url(settings.irc_url)
    host = (settings.server or TWITCH_IRC_HOST).strip()
    if not host:
        raise ConfigError("invalid setting twitch.server: empty host")
    port = settings.port or TWITCH_TLS_PORT
    if not 0 < port < 65536:
        raise ConfigError("invalid setting twitch.port: must be in 1-65535")
    return IrcEndpoint("tcp" if port == TWITCH_PLAIN_PORT else "tls", host, port)


@dataclass(frozen=True, slots=True)
class IrcLogin:
    """The nick and (optional) password one source logs in with, on every connection."""

    nick: str
    password: SecretStr | None  # "oauth:..." or None for anonymous

    @property
    def anonymous(self) -> bool:
        return self.password is None

    def lines(self) -> list[str]:
        """The login lines in Twitch's documented order: CAP REQ, PASS, NICK.

        The PASS line holds the token: callers send it but never log it.
        """
        out = [f"CAP REQ :{' '.join(CAPABILITIES)}"]
        if self.password is not None:
            out.append(f"PASS {self.password.get_secret_value()}")
        out.append(f"NICK {self.nick}")
        return out


def build_login(settings: TwitchSettings, rng: random.Random | None = None) -> IrcLogin:
    """Anonymous ``justinfanNNNN`` without a token; otherwise ``PASS oauth:...`` + ``NICK``.

    Twitch reads any ``justinfan`` + digits nick without a password as an anonymous, read-only
    login (dev.twitch.tv/docs/irc/authenticate-bot). A token needs the matching login name.
    """
    raw = settings.token.get_secret_value().strip() if settings.token is not None else ""
    if not raw:
        suffix = (rng or random.SystemRandom()).randint(1000, 99999)
        return IrcLogin(f"justinfan{suffix}", None)
    nick = (settings.nickname or "").strip().lower()
    if not nick:
        raise ConfigError("missing setting twitch.nickname: a token needs the login name it belongs to")
    token = raw if raw.startswith("oauth:") else f"oauth:{raw}"
    return IrcLogin(nick, SecretStr(token))


def cleartext_warning(endpoint: IrcEndpoint, login: IrcLogin) -> str | None:
    """A warning (without the token) when the token would cross the network unencrypted."""
    if login.anonymous or endpoint.encrypted:
        return None
    return (
        f"twitch.token will be sent unencrypted to {endpoint.describe()}; use ircs:// or wss:// to protect it"
    )
