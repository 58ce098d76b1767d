"""Kafka client configuration from .properties files: Confluent Cloud's file works unchanged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chatpulse.config import KafkaSettings
from chatpulse.errors import ConfigError
from chatpulse.transport.properties import client_config, parse_properties

CONFLUENT_CLOUD = """\
# Required connection configs for Kafka producer, consumer, and admin
bootstrap.servers=pkc-abc12.europe-west1.gcp.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanisms=PLAIN
sasl.username=ABCDEFGHIJKLMNOP
sasl.password=s3cr3t/API+secret==value

# Best practice for higher availability in librdkafka clients prior to 1.7
session.timeout.ms=45000

# Required connection configs for Confluent Cloud Schema Registry
schema.registry.url=https://psrc-xyz.europe-west1.gcp.confluent.cloud
basic.auth.credentials.source=USER_INFO
basic.auth.user.info=SRKEY:SRSECRET
"""


def test_confluent_cloud_client_properties_give_a_librdkafka_config(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text(CONFLUENT_CLOUD)
    config = client_config(KafkaSettings(properties_file=path))
    assert dict(config) == {
        "bootstrap.servers": "pkc-abc12.europe-west1.gcp.confluent.cloud:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "ABCDEFGHIJKLMNOP",
        "sasl.password": "s3cr3t/API+secret==value",
        "session.timeout.ms": "45000",
    }


def test_secrets_never_show_in_repr_str_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "client.properties"
    path.write_text(CONFLUENT_CLOUD)
    with caplog.at_level(logging.DEBUG):
        config = client_config(KafkaSettings(properties_file=path))
    shown = repr(config) + str(config) + caplog.text
    assert "s3cr3t" not in shown and "ABCDEFGHIJKLMNOP" not in shown and "SRSECRET" not in shown
    assert "pkc-abc12" in repr(config)  # what is not secret stays readable


def test_java_client_jaas_config_becomes_librdkafka_credentials() -> None:
    text = (
        "bootstrap.servers=broker:9092\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
        "    username='KEY123' password='SECRET456';\n"
        "key.serializer=org.apache.kafka.common.serialization.StringSerializer\n"
        "client.dns.lookup=use_all_dns_ips\n"
    )
    path_settings = parse_properties(text)
    from chatpulse.transport.properties import librdkafka_properties

    kept = librdkafka_properties(path_settings)
    assert kept["sasl.username"] == "KEY123" and kept["sasl.password"] == "SECRET456"
    assert "sasl.jaas.config" not in kept and "key.serializer" not in kept
    assert kept["client.dns.lookup"] == "use_all_dns_ips"


def test_java_properties_syntax_separators_comments_and_escapes() -> None:
    text = "! bang comment\n  a = 1\nb:2\nc 3\nd=x\\ty\\u0041\ne=\nf=tail\\\n  continued\n"
    assert parse_properties(text) == {
        "a": "1",
        "b": "2",
        "c": "3",
        "d": "x\tyA",
        "e": "",
        "f": "tailcontinued",
    }


def test_bootstrap_servers_setting_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text("bootstrap.servers=far.away:9092\nlinger.ms=5\n")
    config = client_config(KafkaSettings(properties_file=path, bootstrap_servers="127.0.0.1:9092"))
    assert config["bootstrap.servers"] == "127.0.0.1:9092" and config["linger.ms"] == "5"


def test_no_bootstrap_servers_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        client_config(KafkaSettings())


def test_a_missing_properties_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kafka.properties_file"):
        client_config(KafkaSettings(properties_file=tmp_path / "nope.properties"))


def test_topic_names_that_collide_are_refused_before_any_request() -> None:
    from chatpulse.transport.topics import ensure_topics

    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1", topic_raw="same", topic_enriched="same")
    with pytest.raises(ConfigError, match="must differ"):
        ensure_topics({"bootstrap.servers": "127.0.0.1:1"}, settings, timeout_s=1)
