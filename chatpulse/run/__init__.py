"""Runners: the whole pipeline in one process, embedded or through Kafka (``chatpulse run``).

- :mod:`.embedded`: ``Pipeline``, the worker-pool run (source -> pool -> store, in memory).
- :mod:`.kafka`: ``KafkaRun``, the three Kafka services (:mod:`chatpulse.services`) in one process.
- :mod:`.supervisor`: what ``chatpulse run`` drives either of them with: store, dashboard,
  signals, status line, ``--duration``.
- :mod:`.status`: the status line; :mod:`.metrics`: Prometheus collectors for a run.

Both runners call the same core steps (:mod:`chatpulse.stages`), so one recording stores the
same rows through either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chatpulse.run.status import StatusSnapshot
    from chatpulse.store import Sink


class Runner(Protocol):
    """What :func:`chatpulse.run.supervisor.supervise` drives: the embedded
    :class:`~chatpulse.run.embedded.Pipeline` or a :class:`~chatpulse.run.kafka.KafkaRun`.

    ``run`` returns when the source ended or after ``stop`` (any thread-safe caller: a signal,
    ``--duration``) drained every stage into ``sink``; it raises what a stage could not recover
    from. ``snapshot`` feeds the status line, ``status_json`` the dashboard's ``/api/status``."""

    @property
    def sink(self) -> Sink: ...

    def stop(self) -> None: ...

    @property
    def stopping(self) -> bool: ...

    async def run(self) -> Any: ...

    def snapshot(self, extra: str = "") -> StatusSnapshot: ...

    def status_json(self) -> dict[str, Any]: ...
