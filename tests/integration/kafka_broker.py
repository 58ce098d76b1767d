"""The local Kafka broker helpers the integration tests import (kept in chatpulse.testing, which
``chatpulse bench kafka`` uses too)."""

from chatpulse.testing.kafka_broker import LocalBroker, free_port, private_broker, running_broker

__all__ = ["LocalBroker", "free_port", "private_broker", "running_broker"]
