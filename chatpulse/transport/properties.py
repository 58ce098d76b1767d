"""Kafka client configuration from a librdkafka/Java ``.properties`` file, overridable by settings.

The seed (and Confluent Cloud's "client.properties" download) configures clients with a file
such as::

    bootstrap.servers=pkc-xxxxx.europe-west1.gcp.confluent.cloud:9092
    security.protocol=SASL_SSL
    sasl.mechanisms=PLAIN
    sasl.username=<API key>
    sasl.password=<API secret>
    session.timeout.ms=45000
    # Schema Registry (not a Kafka client setting)
    schema.registry.url=https://psrc-xxxxx.europe-west1.gcp.confluent.cloud
    basic.auth.credentials.source=USER_INFO
    basic.auth.user.info=<SR key>:<SR secret>

:func:`parse_properties` reads the Java properties syntax (``key=value``, ``key: value``,
``#``/``!`` comments, ``\\`` line continuations). :func:`client_config` keeps what librdkafka
understands: Java-only keys (serializers, Schema Registry, ``basic.auth.*``) are dropped with a
debug log, and the Java client's ``sasl.jaas.config`` for PLAIN is turned into librdkafka's
``sasl.username``/``sasl.password``. ``settings.bootstrap_servers`` (``KAFKA_BOOTSTRAP_SERVERS``)
overrides the file's servers. Pure: no I/O besides reading the named file.

Secrets never reach a log line or a message: :class:`ClientConfig` prints secret values as
``'***'``, and errors name keys, never values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from chatpulse.config import KafkaSettings
from chatpulse.errors import ConfigError
from chatpulse.textfile import read_text

log = logging.getLogger(__name__)

# Keys of Java clients and Confluent tools that are not librdkafka properties: librdkafka refuses
# unknown keys ("No such configuration property"), so they are dropped rather than passed on.
# (librdkafka's list: github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md)
_JAVA_ONLY_PREFIXES: Final = (
    "schema.registry.",
    "basic.auth.",
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "key.subject.name.strategy",
    "value.subject.name.strategy",
    "auto.register.schemas",
    "use.latest.version",
    "specific.avro.reader",
    "json.",
    "confluent.",
    "interceptor.classes",
    "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class",
    "sasl.jaas.config",
)
_SECRET_MARKERS: Final = ("password", "secret", "sasl.username", "ssl.key.pem", "jaas")
_JAAS_PLAIN = re.compile(
    r"PlainLoginModule\s+required\s+(?P<opts>.*?);?\s*$", re.DOTALL
)  # org.apache.kafka.common.security.plain.PlainLoginModule required username='..' password='..';
_JAAS_OPTION = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_ESCAPES: Final = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def is_secret_key(key: str) -> bool:
    """True for keys whose values must never be printed (passwords, API secrets, keys)."""
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


class ClientConfig(Mapping[str, str]):
    """A librdkafka configuration whose ``repr``/``str`` hide secret values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def redacted(self) -> dict[str, str]:
        """The configuration with every secret value replaced by ``***`` (safe to log)."""
        return {k: ("***" if is_secret_key(k) else v) for k, v in self._values.items()}

    def with_overrides(self, **values: str) -> ClientConfig:
        """A copy with ``values`` set; keyword names use ``_`` for ``.`` (``group_id``)."""
        merged = dict(self._values)
        merged.update({k.replace("_", "."): v for k, v in values.items()})
        return ClientConfig(merged)

    def to_dict(self) -> dict[str, str]:
        """A plain dict for the confluent-kafka constructors (secrets included: do not log)."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"ClientConfig({self.redacted()!r})"

    __str__ = __repr__


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(range(len(text)))
    for i in chars:
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            out.append(char)
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            for _ in range(5):
                next(chars, None)
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        next(chars, None)
    return "".join(out)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join ``\\``-continued lines; yields (first physical line number, logical line)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip() if pending else raw.strip()
        if not pending:
            start = number
            if not line or line[0] in "#!":
                continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd number of backslashes: the line continues
            pending.append(line[:-1])
            continue
        pending.append(line)
        yield start, "".join(pending)
        pending = []
    if pending:
        yield start, "".join(pending)


def parse_properties(text: str, origin: str = "properties") -> dict[str, str]:
    """Java ``.properties`` text -> ``{key: value}`` (later keys win, as in Java).

    Separators are ``=``, ``:`` or whitespace; keys and values are unescaped. A line with no key
    raises :class:`ConfigError` naming the line number (never its content: it may be a secret).
    """
    values: dict[str, str] = {}
    for number, line in _logical_lines(text):
        match = re.match(r"((?:\\.|[^=:\s\\])+)\s*(?:[=:]\s*|\s+|$)(.*)$", line, re.DOTALL)
        if match is None:
            raise ConfigError(f"{origin} line {number}: expected key=value")
        values[_unescape(match.group(1))] = _unescape(match.group(2).strip())
    return values


def _jaas_credentials(jaas: str) -> dict[str, str]:
    """``sasl.jaas.config`` of the Java PLAIN login module -> librdkafka username/password."""
    match = _JAAS_PLAIN.search(jaas)
    if match is None:
        return {}
    found = _JAAS_OPTION.finditer(match["opts"])
    options = {m.group(1): m.group(2) or m.group(3) or m.group(4) for m in found}
    out = {}
    if "username" in options:
        out["sasl.username"] = options["username"]
    if "password" in options:
        out["sasl.password"] = options["password"]
    return out


def librdkafka_properties(values: Mapping[str, str]) -> dict[str, str]:
    """Keep the librdkafka client keys of ``values``; translate or drop the Java-only ones."""
    kept: dict[str, str] = {}
    for key, value in values.items():
        if key == "sasl.jaas.config":
            for name, credential in _jaas_credentials(value).items():
                kept.setdefault(name, credential)
        if key.startswith(_JAVA_ONLY_PREFIXES):
            log.debug("kafka properties: dropping %s (not a librdkafka client setting)", key)
            continue
        kept[key] = value
    return kept


def read_properties_file(path: Path) -> dict[str, str]:
    """The librdkafka keys of the ``.properties`` file at ``path``; ConfigError when unreadable."""
    text = read_text(path, f"kafka.properties_file {path}")
    return librdkafka_properties(parse_properties(text, origin=f"kafka.properties_file {path}"))


def client_config(settings: KafkaSettings) -> ClientConfig:
    """The base client configuration: the properties file, then ``bootstrap_servers`` on top.

    Raises ConfigError when neither names a bootstrap server.
    """
    values: dict[str, str] = {}
    if settings.properties_file is not None:
        values.update(read_properties_file(settings.properties_file))
    if settings.bootstrap_servers:
        values["bootstrap.servers"] = settings.bootstrap_servers
    if not values.get("bootstrap.servers"):
        raise ConfigError(
            "kafka.bootstrap_servers is not set: set KAFKA_BOOTSTRAP_SERVERS (e.g. 127.0.0.1:9092) "
            "or KAFKA_PROPERTIES=client.properties"
        )
    return ClientConfig(values)
