"""The alert detector: per-minute message counts and notable events in, alert decisions out. Pure.

Times come from the events (``sent_at``, else ``received_at``) and from :meth:`AlertDetector.tick`
(the caller's clock, passed in); nothing here reads a clock or does I/O, so a recording gives
the same alerts however fast it is replayed.

Rules, per channel:

- **hype**: the minute's message count clears the bar of :func:`chatpulse.store.hype.hype_bar`
  (the dashboard's and ``chatpulse report``'s rule, same defaults). The bar depends only on the
  minutes before, and a count only grows, so the alert fires as soon as the running count clears
  it, mid-minute, for the first minute of a run of hype minutes (a moment *starts*).
- **mood_drop**: a closed minute with at least ``mood_min_messages`` scored messages whose mean
  sentiment lies below the median of the previous such minutes by more than
  ``max(mood_k * 1.4826 * MAD, mood_min_drop)``; again only the first of a run.
- **raid** / **gift_bomb**: a ``raid`` with at least ``raid_min_viewers`` viewers, a
  ``submysterygift`` of at least ``gift_bomb_min`` gifts.
- **chat_stopped**: no message for ``silence_minutes`` on a channel that had at least
  ``active_per_minute`` messages a minute over the minutes before; or a coverage gap (the source
  lost the channel: ``coverage`` ``disconnected``) still open after ``coverage_grace_s``, so a
  reconnect of a few seconds is no alert. Parting a channel on purpose is no gap.

Then, per channel and kind, at most one alert per cooldown (event time), and none for events
before ``quiet_before_ms`` (the demo's back-fill): those minutes still build the baselines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from chatpulse.store.hype import MINUTE_MS, HypeBar, hype_bar, median_spread

AlertKind = Literal["hype", "mood_drop", "raid", "gift_bomb", "chat_stopped"]
ALERT_KINDS: Final[tuple[AlertKind, ...]] = ("hype", "mood_drop", "raid", "gift_bomb", "chat_stopped")
BASELINE_MINUTES: Final = 30  # the hype rule's look-back (chatpulse.store.queries uses the same)
# Wall-clock ticks count once the data has been this close to one: until then the events being
# read are history (a back-fill, a backlog), and a channel is not silent for being in the past.
# From then on they count however far the data falls behind (all chat may stop).
CATCH_UP_MS: Final = 60_000
# Minutes of mood a channel needs before a drop is judged: one minute's mean of real chat swings
# by +-0.3 (the xqcow capture), so five minutes of history made a normal swing look like a drop.
MOOD_MIN_HISTORY: Final = 10

# Per channel and kind, at most one alert per this many seconds (of event time).
DEFAULT_COOLDOWN_S: Final[Mapping[str, float]] = {
    "hype": 600.0, "mood_drop": 900.0, "raid": 60.0, "gift_bomb": 60.0, "chat_stopped": 600.0,
}  # fmt: skip

Number = int | float | str


@dataclass(frozen=True, slots=True)
class VodRef:
    """Where an alert's moment is in a stream's recording (filled in once streams know it)."""

    video_id: str
    offset_s: int

    @property
    def url(self) -> str:
        hours, rest = divmod(max(0, self.offset_s), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"https://www.twitch.tv/videos/{self.video_id}?t={hours}h{minutes}m{seconds}s"


@dataclass(frozen=True, slots=True)
class Alert:
    """One decision: what happened in which channel, when (event time, ms), and its figures."""

    kind: AlertKind
    channel: str
    at_ms: int
    numbers: Mapping[str, Number]  # in display order; keys are stable (plain JSON bodies)
    minute_ms: int | None = None  # the minute judged (hype, mood), for the dashboard link
    vod: VodRef | None = None


@dataclass(frozen=True, slots=True)
class AlertRules:
    """Thresholds and cooldowns (from ``alerts:`` in the settings)."""

    raid_min_viewers: int = 50
    gift_bomb_min: int = 20
    mood_min_drop: float = 0.15
    mood_k: float = 3.0
    mood_min_messages: int = 20
    silence_minutes: float = 5.0
    active_per_minute: float = 2.0
    coverage_grace_s: float = 60.0
    cooldown_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COOLDOWN_S))
    quiet_before_ms: int | None = None  # no alerts for events before this (history)


@dataclass(slots=True)
class DetectorStats:
    fired: dict[str, int] = field(default_factory=dict)
    quiet: int = 0  # decided before quiet_before_ms (history)
    cooled: int = 0  # held back by the cooldown
    late_messages: int = 0  # for a minute already closed (counted nowhere)


@dataclass(slots=True)
class _Channel:
    minute: int = -1  # the open minute (ms), -1 before the first message
    count: int = 0
    score_sum: float = 0.0
    scored: int = 0
    bar: HypeBar | None = None
    hype_now: bool = False
    hype_before: bool = False
    mood_before: bool = False
    history: deque[int] = field(default_factory=lambda: deque(maxlen=BASELINE_MINUTES))
    moods: deque[float] = field(default_factory=lambda: deque(maxlen=BASELINE_MINUTES))
    last_message_ms: int | None = None
    silent: bool = False  # chat_stopped decided for the current silence
    gap_since_ms: int | None = None  # an open coverage gap
    gap_reason: str = ""


class AlertDetector:
    """Feed it in time order per channel; each call returns the alerts it decided."""

    def __init__(self, rules: AlertRules | None = None) -> None:
        self.rules = rules or AlertRules()
        self.stats = DetectorStats()
        self.clock_ms: int | None = None  # the newest time known (events and accepted ticks)
        self._watermark: int | None = None  # the newest event time
        self._caught_up = False  # the data reached the caller's clock (see CATCH_UP_MS)
        self._channels: dict[str, _Channel] = {}
        self._last_fired: dict[tuple[str, str], int] = {}

    # -- inputs -----------------------------------------------------------------------------

    def messages(
        self, channel: str, minute_ms: int, count: int, score_sum: float = 0.0, scored: int = 0,
        last_ms: int | None = None, first_ms: int | None = None,
    ) -> list[Alert]:  # fmt: skip
        """``count`` messages of ``channel`` in the minute starting ``minute_ms``, ``scored`` of
        them with sentiment summing to ``score_sum``; ``first_ms``/``last_ms``: the oldest and
        newest one's time (default: the minute's start and end)."""
        if count <= 0:
            return []
        last = minute_ms + MINUTE_MS - 1 if last_ms is None else last_ms
        first = minute_ms if first_ms is None else first_ms
        ch = self._channels.get(channel)
        if ch is None:
            ch = self._channels[channel] = _Channel()
        out: list[Alert] = []
        if minute_ms < ch.minute:
            self.stats.late_messages += count
            return out
        if not ch.silent and ch.last_message_ms is not None:
            # A silence no tick saw (a replay has no clock; its time moves with the chat): it
            # is known once the channel speaks again, and alerted at the time it began to count.
            self._judge_silence(channel, ch, first, out)
        if minute_ms > ch.minute:
            self._close_minute(channel, ch, minute_ms, out)
        ch.count += count
        ch.score_sum += score_sum
        ch.scored += scored
        ch.last_message_ms = last if ch.last_message_ms is None else max(ch.last_message_ms, last)
        ch.silent = False
        if not ch.hype_now and ch.bar is not None and ch.bar.is_hype(ch.count):
            ch.hype_now = True
            if not ch.hype_before:
                bar = ch.bar
                numbers = {
                    "messages": ch.count, "seconds": round((last - minute_ms) / 1000, 1),
                    "baseline_per_min": round(bar.baseline, 1), "bar": round(bar.bar, 1),
                    "score": round(bar.score(ch.count), 1),
                    "ratio": round(ch.count / bar.baseline, 1) if bar.baseline else "new",
                }  # fmt: skip
                self._emit(Alert("hype", channel, last, numbers, minute_ms), out)
        self._observe_time(last)
        return out

    def raid(self, channel: str, at_ms: int, viewers: int, raider: str) -> list[Alert]:
        out: list[Alert] = []
        if viewers >= self.rules.raid_min_viewers:
            self._emit(Alert("raid", channel, at_ms, {"viewers": viewers, "from": raider}), out)
        self._observe_time(at_ms)
        return out

    def gift_bomb(self, channel: str, at_ms: int, gifts: int, gifter: str) -> list[Alert]:
        out: list[Alert] = []
        if gifts >= self.rules.gift_bomb_min:
            self._emit(Alert("gift_bomb", channel, at_ms, {"gifts": gifts, "from": gifter}), out)
        self._observe_time(at_ms)
        return out

    def coverage(self, channel: str, at_ms: int, connected: bool, reason: str = "") -> None:
        """The source gained (``connected``) or lost a channel (judged by :meth:`tick`)."""
        ch = self._channels.get(channel)
        if ch is None:
            ch = self._channels[channel] = _Channel()
        if connected:
            ch.gap_since_ms = None
        elif reason == "parted":  # the operator left the channel: neither a gap nor a silence
            ch.gap_since_ms, ch.last_message_ms = None, None
        elif ch.gap_since_ms is None:
            ch.gap_since_ms, ch.gap_reason = at_ms, reason
        self._observe_time(at_ms)

    def tick(self, now_ms: int | None = None) -> list[Alert]:
        """Judge silences and open coverage gaps: at the newest event time (``now_ms`` None: call
        it after feeding a whole batch, so no channel looks silent for being fed later in it),
        or at the caller's clock (live runs tick it every second), which counts once the events
        have caught up with it (see :data:`CATCH_UP_MS`)."""
        out: list[Alert] = []
        if self._watermark is None:
            return out
        if now_ms is None:
            self._check_timers(self._watermark, out)
            return out
        self._caught_up = self._caught_up or self._watermark >= now_ms - CATCH_UP_MS
        if self._caught_up:
            self._check_timers(now_ms, out)
        return out

    # -- rules ------------------------------------------------------------------------------

    def _close_minute(self, channel: str, ch: _Channel, new_minute: int, out: list[Alert]) -> None:
        if ch.minute >= 0:
            self._judge_mood(channel, ch, out)
            ch.history.append(ch.count)
            # Minutes without messages count as 0 (as in find_hype_moments); a gap longer than
            # the look-back leaves only zeros.
            empty = min((new_minute - ch.minute) // MINUTE_MS - 1, BASELINE_MINUTES)
            ch.history.extend([0] * empty)
            ch.hype_before = ch.hype_now if empty == 0 else False
        ch.minute, ch.count, ch.score_sum, ch.scored, ch.hype_now = new_minute, 0, 0.0, 0, False
        ch.bar = hype_bar(ch.history)

    def _judge_mood(self, channel: str, ch: _Channel, out: list[Alert]) -> None:
        rules = self.rules
        if ch.scored < rules.mood_min_messages:
            return  # too few to judge, and not part of the baseline either
        mean = ch.score_sum / ch.scored
        dropped = False
        if len(ch.moods) >= MOOD_MIN_HISTORY:
            middle, spread = median_spread(ch.moods)
            drop = max(rules.mood_k * spread, rules.mood_min_drop)
            dropped = mean < middle - drop
            if dropped and not ch.mood_before:
                numbers = {"mood": round(mean, 2), "baseline": round(middle, 2),
                           "drop": round(middle - mean, 2), "messages": ch.scored}  # fmt: skip
                self._emit(Alert("mood_drop", channel, ch.minute + MINUTE_MS, numbers, ch.minute), out)
        ch.mood_before = dropped
        ch.moods.append(mean)

    def _observe_time(self, at_ms: int) -> None:
        if self._watermark is None or at_ms > self._watermark:
            self._watermark = at_ms

    def _check_timers(self, now_ms: int, out: list[Alert]) -> None:
        if self.clock_ms is not None and now_ms <= self.clock_ms:
            return
        self.clock_ms = now_ms
        grace_ms = int(self.rules.coverage_grace_s * 1000)
        for channel, ch in self._channels.items():
            if ch.gap_since_ms is not None and now_ms - ch.gap_since_ms >= grace_ms:
                gap = ch.gap_since_ms
                ch.gap_since_ms, ch.silent = None, True
                numbers: dict[str, Number] = {"gap_s": round((now_ms - gap) / 1000), "reason": ch.gap_reason}
                self._emit(Alert("chat_stopped", channel, gap + grace_ms, numbers), out)
            if not ch.silent and ch.last_message_ms is not None:
                self._judge_silence(channel, ch, now_ms, out)

    def _judge_silence(self, channel: str, ch: _Channel, now_ms: int, out: list[Alert]) -> None:
        """Chat stopped if ``channel`` said nothing from its last message until ``now_ms``."""
        last = ch.last_message_ms
        silence_ms = int(self.rules.silence_minutes * MINUTE_MS)
        if last is None or now_ms - last < silence_ms:
            return
        ch.silent = True  # judged once per silence, active or not
        per_minute = self._recent_rate(ch, last)
        if per_minute >= self.rules.active_per_minute:
            numbers: dict[str, Number] = {
                "silent_min": round(self.rules.silence_minutes, 1),
                "per_min_before": round(per_minute, 1),
                "reason": "no messages",
            }
            self._emit(Alert("chat_stopped", channel, last + silence_ms, numbers), out)

    def _recent_rate(self, ch: _Channel, last_ms: int) -> float:
        """Messages a minute over the channel's last few minutes up to its last message."""
        minutes = max(1, round(self.rules.silence_minutes))
        closed = list(ch.history)[-(minutes - 1) :] if minutes > 1 else []
        span = len(closed) + (last_ms - ch.minute) / MINUTE_MS
        return (sum(closed) + ch.count) / max(span, 1.0)

    def _emit(self, alert: Alert, out: list[Alert]) -> None:
        rules = self.rules
        if rules.quiet_before_ms is not None and alert.at_ms < rules.quiet_before_ms:
            self.stats.quiet += 1
            return
        key = (alert.channel, alert.kind)
        cooldown_ms = int(rules.cooldown_s.get(alert.kind, 0.0) * 1000)
        previous = self._last_fired.get(key)
        if previous is not None and alert.at_ms - previous < cooldown_ms:
            self.stats.cooled += 1
            return
        self._last_fired[key] = alert.at_ms
        self.stats.fired[alert.kind] = self.stats.fired.get(alert.kind, 0) + 1
        out.append(alert)


def with_vod(alert: Alert, vod: VodRef | None) -> Alert:
    """``alert`` pointing at its moment in a recording (the streams' lookup fills ``vod``)."""
    return alert if vod is None else replace(alert, vod=vod)
