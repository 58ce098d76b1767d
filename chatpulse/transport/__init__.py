"""Transports between pipeline stages.

- :mod:`chatpulse.transport.memory`: bounded in-process queues (``chatpulse run``, embedded).
- :mod:`chatpulse.transport.kafka`: Kafka between separate ``ingest`` / ``enrich`` / ``sink``
  processes (producer with on-disk spool, at-least-once consumer, topics, client properties).
"""
