"""Alerts: webhook messages when chat does something worth a look (hype, a mood drop, a big raid or
gift bomb, chat that stops).

- :mod:`.detect` — the pure detector: per-minute counts and notable events in, alert decisions
  out (times come from the events; no I/O, no clock).
- :mod:`.rows` — the store's Arrow rows of a batch as the detector's inputs (pure).
- :mod:`.format` — an alert as a Discord, Slack or plain JSON body (pure).
- :mod:`.urls` — whether a webhook URL can be used, and its redacted name for logs (pure).
- :mod:`.webhook` — one sender thread per webhook: bounded queue, retries with capped backoff
  and jitter, secrets redacted in logs.
- :mod:`.monitor` — the run's hook: a sink wrapper hands each stored batch to a thread that runs
  the detector and the senders, so alerts never slow the pipeline.
- :mod:`.setup` — a run's monitor from the ``alerts:`` settings.
"""
