"""The distributed pipeline: one process per stage, Kafka between them (DESIGN.md section 4).

- :mod:`.ingest`: source -> parse -> ``kafka.topic_raw`` (``chatpulse ingest``)
- :mod:`.enrich`: ``topic_raw`` -> sentiment -> ``topic_enriched`` (``chatpulse enrich``; run N
  of them in one consumer group to share the partitions)
- :mod:`.sink`: ``topic_enriched`` -> ClickHouse (``chatpulse sink``)
- :mod:`.runtime`: what every service shares: stop signals, the status line, metrics, the
  consumer-service wiring.
"""
