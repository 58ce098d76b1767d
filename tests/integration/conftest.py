"""Fixtures for integration tests that need Kafka: a real broker and per-test topics and groups.

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set (``make test`` starts one and sets it), else
one this test session starts with ``deploy/kafka/kafka-up.sh`` on free ports in a temporary run
folder and stops at its end. A broker that cannot be started fails the tests that need it; it
never skips them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatpulse.config import KafkaSettings, SentimentSettings, Settings, StoreSettings
from tests.integration.kafka_broker import private_broker


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    broker = private_broker(tmp_path_factory.mktemp("kafka-broker"))
    try:
        try:
            broker.up()
        except Exception as exc:  # noqa: BLE001 - report any failure to start as a test failure
            pytest.fail(f"could not start the local Kafka broker (deploy/kafka/kafka-up.sh): {exc}")
        yield broker.bootstrap
    finally:
        broker.down()


def unique_kafka_settings(bootstrap: str, spool_dir: Path, partitions: int = 3) -> KafkaSettings:
    """Topics and consumer groups no other test uses."""
    tag = uuid.uuid4().hex[:10]
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_raw=f"test.{tag}.raw",
        topic_enriched=f"test.{tag}.enriched",
        topic_deadletter=f"test.{tag}.deadletter",
        partitions=partitions,
        group_prefix=f"test-{tag}",
        spool_dir=spool_dir,
    )


def anonymous_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a ``chatpulse`` subprocess with no credentials or settings from the
    developer's environment (an anonymous Twitch login) and its own emote cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATPULSE_")}
    for name in ("TOKEN", "NICKNAME", "SERVER", "PORT"):
        env.pop(name, None)
    env["CHATPULSE_EMOTES__CACHE_DIR"] = str(tmp_path / "emotes")
    return env


def kafka_cli_env(kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    """The environment for a ``chatpulse`` subprocess that uses ``kafka``'s topics, groups and
    spool (the broker comes from its properties file or ``extra``), and no KAFKA_/CHATPULSE_
    variable of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CHATPULSE_"))}
    env.update(
        CHATPULSE_KAFKA__TOPIC_RAW=kafka.topic_raw,
        CHATPULSE_KAFKA__TOPIC_ENRICHED=kafka.topic_enriched,
        CHATPULSE_KAFKA__TOPIC_DEADLETTER=kafka.topic_deadletter,
        CHATPULSE_KAFKA__GROUP_PREFIX=kafka.group_prefix,
        CHATPULSE_KAFKA__PARTITIONS=str(kafka.partitions),
        CHATPULSE_KAFKA__SPOOL_DIR=str(kafka.spool_dir),
    )
    env.update(extra)
    return env


@pytest.fixture
def kafka_settings(kafka_bootstrap: str, tmp_path: Path) -> KafkaSettings:
    return unique_kafka_settings(kafka_bootstrap, tmp_path / "kafka-spool")


@pytest.fixture
def pipeline_settings(kafka_settings: KafkaSettings, tmp_path: Path) -> Iterator[Settings]:
    """Kafka topics of this test, a chDB store in tmp_path, the lexicon analyzer."""
    yield Settings(
        kafka=kafka_settings,
        store=StoreSettings(dsn=f"chdb://{tmp_path / 'store'}"),
        sentiment=SentimentSettings(analyzer="lexicon"),
    )
