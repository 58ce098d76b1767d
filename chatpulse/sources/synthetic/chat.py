"""Synthetic Twitch chat: seeded, multi-channel, emitted as real Twitch IRC lines.

The generator writes the same lines Twitch's IRC server sends (tags, prefix, command), so
everything downstream of a source, the parser first, runs exactly as on live chat. What it
simulates, per channel:

- **Personalities** (:data:`~chatpulse.sources.synthetic.vocabulary.PERSONALITIES`): channel size
  (share of the overall rate), how emote-heavy chat is, baseline mood, how often people sub and
  how strict the moderators are.
- **Game events**: every minute or two (simulated time) something happens in a channel; its
  rate jumps 3-8x for 50-110 s (a hype spike), its mood swings hard positive ("insane play",
  PogChamp, W) or negative ("trash", Sadge, L) and decays back to the baseline.
- **Emote waves** (many chatters spamming one emote) and **copypasta** bursts during events.
- **Monetisation**: subs, resubs with a message, single gifted subs, gift bombs
  (``submysterygift`` followed by one ``subgift`` per gift), raids, bits cheers (PRIVMSG with a
  ``bits`` tag).
- **Moderation**: timeouts and bans (CLEARCHAT) of recent chatters, deleted messages (CLEARMSG
  naming the id of a message emitted earlier in that channel).
- **Chatters**: a Zipf-like mix of regulars and lurkers, badges, colors, first-time chatters
  (``first-msg=1`` once per newcomer), replies (``reply-parent-*`` tags), ``/me`` actions.
- Twitch global emotes carry an ``emotes`` tag with code-point positions exactly as Twitch
  computes them; third-party emotes (KEKW, Sadge, ...) appear as plain words, as on Twitch.

Knobs: ``channels`` (a count, or the logins to use), ``rate`` (overall lines per second while
chat is calm; hype spikes add to it, so the long-run mean is higher; ``None`` or ``0`` = as fast
as the consumer takes them),
``seed`` (same seed, same lines; only ``tmi-sent-ts`` depends on the start time),
``duration`` (seconds of wall-clock time after which :meth:`SyntheticSource.stream` ends).

Use :func:`generate_lines` for a fast synchronous firehose (benchmarks, tests) and
:class:`SyntheticSource` as a pipeline source.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import re
from bisect import bisect_right
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Final

from chatpulse.irc.parser import escape_tag_value
from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.sources.synthetic import vocabulary as vocab

DEFAULT_RATE: Final = 200.0
UNPACED_TIMELINE_RATE: Final = 1000.0  # simulated lines/s behind tmi-sent-ts when rate is None
_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")
_POOL_SIZE: Final = 512  # precomputed messages per personality and mood
_RECENT: Final = 64  # messages remembered per channel (deletions, replies, timeouts)
_TICK_S: Final = 1.0  # how often (simulated) moods decay and events are scheduled

Span = tuple[str, int, int]  # (twitch emote id, start, end inclusive) as in the emotes tag


@dataclass(frozen=True, slots=True)
class _Text:
    """A message body with its Twitch emote spans and the ``emotes`` tag value for them."""

    text: str
    spans: tuple[Span, ...]
    tag: str


@dataclass(slots=True)
class _Chatter:
    login: str
    name: str
    user_id: str
    head: str  # badge-info;badges;color;display-name, ready to paste
    mod: str
    sub: str
    newcomer: bool  # sends exactly one first-msg=1 message


@dataclass(slots=True)
class _Channel:
    login: str
    room_id: str
    kind: vocab.Personality
    pools: tuple[list[_Text], list[_Text], list[_Text]]  # positive, neutral, negative
    mood: float = 0.0
    shares_mood: float = math.nan  # the mood the two shares below were computed for
    positive_share: float = 0.0  # P(a positive message) at that mood
    non_neutral_share: float = 0.0  # P(positive or negative)
    hype: float = 1.0
    hype_until: float = 0.0
    next_event_at: float = 0.0
    wave: _Text | None = None
    wave_until: float = 0.0
    pasta: _Text | None = None
    pasta_until: float = 0.0
    chatters: dict[int, _Chatter] = field(default_factory=dict)
    spoken: set[int] = field(default_factory=set)
    recent: deque[tuple[str, _Chatter, str]] = field(default_factory=lambda: deque(maxlen=_RECENT))
    gifts_total: int = 0


# --- text building ----------------------------------------------------------------------------


def emotes_tag(spans: Sequence[Span]) -> str:
    """Spans -> Twitch's ``emotes`` tag: ``id:s-e,s-e/id:s-e`` (ids in order of first use)."""
    by_id: dict[str, list[str]] = {}
    for emote_id, start, end in spans:
        by_id.setdefault(emote_id, []).append(f"{start}-{end}")
    return "/".join(f"{emote_id}:{','.join(ranges)}" for emote_id, ranges in by_id.items())


def make_text(words: Sequence[str]) -> _Text:
    """Join words with spaces, marking Twitch global emotes by code-point position."""
    spans: list[Span] = []
    pos = 0
    for word in words:
        emote_id = vocab.TWITCH_EMOTES.get(word)
        if emote_id is not None:
            spans.append((emote_id, pos, pos + len(word) - 1))
        pos += len(word) + 1
    return _Text(" ".join(words), tuple(spans), emotes_tag(spans))


def _shifted(text: _Text, prefix: str) -> _Text:
    """``prefix + text`` with emote positions moved along (replies start with ``@name ``)."""
    n = len(prefix)
    spans = tuple((i, s + n, e + n) for i, s, e in text.spans)
    return _Text(prefix + text.text, spans, emotes_tag(spans))


def _compose(rng: random.Random, kind: vocab.Personality, mood: int) -> _Text:
    phrases, emotes = (
        (vocab.POSITIVE_PHRASES, vocab.POSITIVE_EMOTES),
        (vocab.NEUTRAL_PHRASES, vocab.NEUTRAL_EMOTES),
        (vocab.NEGATIVE_PHRASES, vocab.NEGATIVE_EMOTES),
    )[mood]
    words: list[str] = []
    if rng.random() < 0.85:
        phrase = rng.choice(phrases)
        words.extend((phrase.upper() if rng.random() < 0.1 else phrase).split(" "))
        if rng.random() < 0.2:
            words.extend(rng.choice(vocab.NEUTRAL_PHRASES).split(" "))
    if not words or rng.random() < kind.emote_rate:
        emote = rng.choice(emotes)
        words.extend([emote] * rng.choice((1, 1, 1, 2, 3)))
        if rng.random() < 0.3:
            words.append(rng.choice(vocab.NEUTRAL_EMOTES if mood != 1 else emotes))
    if rng.random() < 0.1:
        words.append(rng.choice(vocab.EMOJI))
    if rng.random() < 0.06:
        words.insert(0, f"@{_chatter_login(rng)}")
    if rng.random() < 0.5 and len(words) > 1:
        rng.shuffle(words)  # emotes lead as often as they trail
    return make_text(words)


def _pools(rng: random.Random, kind: vocab.Personality) -> tuple[list[_Text], list[_Text], list[_Text]]:
    positive, neutral, negative = (
        [_compose(rng, kind, mood) for _ in range(_POOL_SIZE)] for mood in range(3)
    )
    return positive, neutral, negative


def _chatter_login(rng: random.Random) -> str:
    a, b = rng.choice(vocab.CHATTER_NAME_PARTS), rng.choice(vocab.CHATTER_NAME_PARTS)
    style = rng.random()
    if style < 0.4:
        return f"{a}{b}{rng.randrange(100)}"
    if style < 0.7:
        return f"{a}_{b}"
    return f"x{a}{b}x" if style < 0.8 else f"{a}{b}{rng.randrange(1990, 2012)}"


def _with_badge(head: str, badge: str) -> str:
    """A chatter's tag head with one more badge first in ``badges``."""
    if ";badges=;" in head:
        return head.replace(";badges=;", f";badges={badge};", 1)
    return head.replace(";badges=", f";badges={badge},", 1)


def _id_maker(rng: random.Random) -> Callable[[], str]:
    """UUID-shaped ids (as Twitch's message ids are): one random prefix per generator, then a
    counter from a random start. Unique within a generator, repeatable for a seed, and a
    quarter of the cost per line of formatting 128 fresh random bits."""
    h = f"{rng.getrandbits(128):032x}"
    prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-"
    start = int(h[20:], 16) >> 8  # leaves 2^48 - 2^40 ids before the last group grows a digit
    return map(f"{prefix}{{:012x}}".format, itertools.count(start)).__next__


# --- the generator -----------------------------------------------------------------------------


class SyntheticChat:
    """The pure, synchronous line generator behind :class:`SyntheticSource`.

    ``lines()`` is an endless iterator of raw IRC lines (no CRLF). ``elapsed_s`` is the simulated
    time of the last line, in seconds since ``start_ms``; lines arrive at ``rate`` per second of
    simulated time on average. Same arguments, same lines.
    """

    def __init__(
        self,
        channels: int | Sequence[str] = 4,
        rate: float = DEFAULT_RATE,
        seed: int = 0,
        start_ms: int = 1_700_000_000_000,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        logins = _channel_logins(channels)
        self._rng = rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._new_id = _id_maker(rng)
        self._inv_rate = 1.0 / rate
        self._start_ms = start_ms
        self.elapsed_s = 0.0
        kinds = vocab.PERSONALITIES
        pools = {k.name: _pools(rng, k) for k in kinds}
        self._channels: list[_Channel] = []
        for index, login in enumerate(logins):
            kind = kinds[index % len(kinds)]
            ch = _Channel(login, str(rng.randrange(20_000_000, 900_000_000)), kind, pools[kind.name])
            ch.mood = -kind.negativity
            # A calm first stretch gives each channel a baseline its first spike stands out from.
            ch.next_event_at = rng.uniform(150.0, 330.0)
            self._channels.append(ch)
        # Big channels by personality, but with spread so 1,000 channels are not 5 sizes.
        self._base_weight = [ch.kind.size * rng.lognormvariate(0.0, 0.5) for ch in self._channels]
        self._base_total = sum(self._base_weight)
        self._cumulative: list[float] = []
        self._total = self._gap = 0.0
        self._reweigh()
        self._next_tick = _TICK_S
        self._pending: deque[str] = deque(
            f"@emote-only=0;followers-only=-1;r9k=0;room-id={ch.room_id};slow=0;subs-only=0"
            f" :tmi.twitch.tv ROOMSTATE #{ch.login}"
            for ch in self._channels
        )

    @property
    def channels(self) -> list[str]:
        """The channel logins, in order."""
        return [ch.login for ch in self._channels]

    def lines(self) -> Iterator[str]:
        """Endless raw IRC lines."""
        rng = self._rng
        rand = rng.random
        pending = self._pending
        while True:
            # Mean inter-arrival = 1 / (rate x hype): spikes add chat on top of the calm rate.
            self.elapsed_s += self._gap * rand()
            if pending:
                yield pending.popleft()
                continue
            if self.elapsed_s >= self._next_tick:
                self._tick()
            ch = self._channels[bisect_right(self._cumulative, rand() * self._total)]
            r = rand()
            if r < 0.955:
                yield self._privmsg(ch, r)
            else:
                yield self._special(ch, (r - 0.955) / 0.045)

    # --- time passing ----------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.elapsed_s
        self._next_tick = now + _TICK_S
        changed = False
        for ch in self._channels:
            base = -ch.kind.negativity
            ch.mood = base + (ch.mood - base) * 0.93
            if ch.hype > 1.0 and now >= ch.hype_until:
                ch.hype, changed = 1.0, True
            if ch.wave is not None and now >= ch.wave_until:
                ch.wave = None
            if ch.pasta is not None and now >= ch.pasta_until:
                ch.pasta = None
            if now >= ch.next_event_at:
                self._game_event(ch, now)
                changed = True
        if changed:
            self._reweigh()

    def _game_event(self, ch: _Channel, now: float) -> None:
        """Something happened on stream: hype spike, mood swing, an emote wave, maybe copypasta."""
        rng = self._rng
        good = rng.random() < 0.5 - 0.3 * ch.kind.negativity
        ch.mood = 0.95 if good else -0.95
        ch.hype = rng.uniform(3.0, 8.0)
        # Long enough to fill whole minutes: hype is judged per minute against the channel's
        # own baseline (chatpulse/store/hype.py), so short blips would never show as moments.
        ch.hype_until = now + rng.uniform(50.0, 110.0)
        emotes = vocab.POSITIVE_EMOTES if good else vocab.NEGATIVE_EMOTES
        ch.wave = make_text([rng.choice(emotes)] * rng.randint(1, 4))
        ch.wave_until = now + rng.uniform(8.0, 20.0)
        if rng.random() < 0.35:
            ch.pasta = make_text(rng.choice(vocab.COPYPASTAS).split(" "))
            ch.pasta_until = now + rng.uniform(5.0, 12.0)
        ch.next_event_at = now + rng.expovariate(1 / 240.0) + 120.0  # calm stretches set the baseline

    def _reweigh(self) -> None:
        weights = [w * ch.hype for w, ch in zip(self._base_weight, self._channels, strict=True)]
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]
        self._gap = 2.0 * self._inv_rate * self._base_total / self._total
        self._cumulative[-1] = math.inf  # rand() * total can never index past the end

    # --- messages ----------------------------------------------------------------------------

    def resume_at(self, ms: int) -> None:
        """Continue the chat from wall-clock time ``ms``: the next lines are stamped from ``ms``
        on (a pause, e.g. while a back-fill is stored, leaves a gap instead of old timestamps)."""
        self._start_ms = ms - int(self.elapsed_s * 1000)

    def _ts(self) -> int:
        return self._start_ms + int(self.elapsed_s * 1000)

    def _chatter(self, ch: _Channel) -> tuple[int, _Chatter]:
        index = int(ch.kind.chatters * self._rng.random() ** 2.2)  # regulars talk most
        chatter = ch.chatters.get(index)
        if chatter is None:
            chatter = ch.chatters[index] = self._new_chatter(ch)
        return index, chatter

    def _new_chatter(self, ch: _Channel) -> _Chatter:
        rng = self._rng
        login = _chatter_login(rng)
        name = login if rng.random() < 0.6 else login.title()  # display names keep the letters
        months = rng.choice((0, 0, 0, 1, 2, 3, 6, 9, 12, 18, 24, 36, 48))
        mod = rng.random() < 0.01
        badges = []
        if mod:
            badges.append("moderator/1")
        if months:
            badges.append(f"subscriber/{min(months, 24) // 3 * 3}")
        if rng.random() < 0.1:
            badges.append("premium/1")
        info = f"subscriber/{months}" if months else ""
        color = rng.choice(vocab.COLORS)
        return _Chatter(
            login=login,
            name=name,
            user_id=str(rng.randrange(10_000_000, 999_999_999)),
            head=f"badge-info={info};badges={','.join(badges)};color={color};display-name={name}",
            mod="1" if mod else "0",
            sub="1" if months else "0",
            newcomer=rng.random() < 0.05,
        )

    def _pick_text(self, ch: _Channel) -> _Text:
        rand = self._rng.random
        if ch.wave is not None and rand() < 0.5:
            return ch.wave
        if ch.pasta is not None and rand() < 0.3:
            return ch.pasta
        m = ch.mood
        if m != ch.shares_mood:  # the mood moves once a simulated second, lines come far more often
            ch.shares_mood = m
            ch.positive_share = min(0.9, max(0.04, 0.3 + 0.5 * m))
            ch.non_neutral_share = ch.positive_share + min(0.9, max(0.04, 0.25 - 0.5 * m))
        r = rand()
        pools = ch.pools
        pool = pools[0] if r < ch.positive_share else pools[2] if r < ch.non_neutral_share else pools[1]
        return pool[int(rand() * _POOL_SIZE)]

    def _privmsg(self, ch: _Channel, r: float) -> str:
        rng = self._rng
        index, who = self._chatter(ch)
        text = self._pick_text(ch)
        first = "0"
        if who.newcomer and index not in ch.spoken:
            ch.spoken.add(index)
            first = "1"
        extra = ""
        body = text.text
        if r < 0.05 and ch.recent:  # a reply to a recent message
            parent_id, parent, parent_text = ch.recent[int(rng.random() * len(ch.recent))]
            text = _shifted(text, f"@{parent.name} ")
            body = text.text
            extra = (
                f"reply-parent-display-name={parent.name};"
                f"reply-parent-msg-body={escape_tag_value(parent_text)};"
                f"reply-parent-msg-id={parent_id};reply-parent-user-id={parent.user_id};"
                f"reply-parent-user-login={parent.login};reply-thread-parent-msg-id={parent_id};"
                f"reply-thread-parent-user-login={parent.login};"
            )
        elif r < 0.07:  # /me
            body = f"\x01ACTION {text.text}\x01"
        msg_id = self._new_id()
        ch.recent.append((msg_id, who, text.text))
        return (
            f"@{who.head};emotes={text.tag};first-msg={first};flags=;id={msg_id};mod={who.mod};"
            f"{extra}returning-chatter=0;room-id={ch.room_id};subscriber={who.sub};"
            f"tmi-sent-ts={self._ts()};turbo=0;user-id={who.user_id};user-type="
            f" :{who.login}!{who.login}@{who.login}.tmi.twitch.tv PRIVMSG #{ch.login} :{body}"
        )

    def _special(self, ch: _Channel, r: float) -> str:
        """The 4.5 % of lines that are not plain messages; ``r`` in [0, 1) picks which."""
        # Shares of these special lines (the rest become plain messages). Gift bombs and raids
        # are rare but loud: a bomb brings one subgift line per gift, a raid a hype spike.
        subs, strict = ch.kind.subs_rate, ch.kind.mod_strictness
        for share, make in (
            (0.16 * subs, self._sub),
            (0.06 * subs, self._single_gift),
            (0.008 * subs, self._gift_bomb),
            (0.20, self._cheer),
            (0.12 * strict, self._clearmsg),
            (0.10 * strict, self._timeout),
            (0.02 * strict, self._ban),
            (0.002, self._raid),
        ):
            if r < share:
                return make(ch)
            r -= share
        return self._privmsg(ch, 1.0)

    def _notice(self, ch: _Channel, who: _Chatter, msg_id: str, params: str, system: str,
                text: _Text | None = None) -> str:  # fmt: skip
        tail = f" :{text.text}" if text is not None else ""
        return (
            f"@{who.head};emotes={text.tag if text else ''};flags=;id={self._new_id()};"
            f"login={who.login};mod={who.mod};msg-id={msg_id};{params}room-id={ch.room_id};"
            f"subscriber={who.sub};system-msg={escape_tag_value(system)};tmi-sent-ts={self._ts()};"
            f"user-id={who.user_id};user-type= :tmi.twitch.tv USERNOTICE #{ch.login}{tail}"
        )

    def _plan(self) -> tuple[str, str]:
        plan = self._rng.choice(("1000", "1000", "1000", "Prime", "Prime", "2000", "3000"))
        tier = "Prime" if plan == "Prime" else f"Tier {plan[0]}"
        return plan, tier

    def _sub(self, ch: _Channel) -> str:
        rng = self._rng
        _, who = self._chatter(ch)
        plan, tier = self._plan()
        plan_name = escape_tag_value(f"Channel Subscription ({ch.login})")
        how = "with Prime" if plan == "Prime" else f"at {tier}"
        ch.mood = min(1.0, ch.mood + 0.05)
        if rng.random() < 0.4:
            params = (f"msg-param-cumulative-months=1;msg-param-months=0;msg-param-should-share-streak=0;"
                      f"msg-param-sub-plan-name={plan_name};msg-param-sub-plan={plan};")  # fmt: skip
            return self._notice(ch, who, "sub", params, f"{who.name} subscribed {how}.")
        months = rng.randint(2, 60)
        params = (f"msg-param-cumulative-months={months};msg-param-months=0;msg-param-should-share-streak=0;"
                  f"msg-param-sub-plan-name={plan_name};msg-param-sub-plan={plan};")  # fmt: skip
        system = f"{who.name} subscribed {how}. They've subscribed for {months} months!"
        text = ch.pools[0][int(rng.random() * _POOL_SIZE)] if rng.random() < 0.6 else None
        return self._notice(ch, who, "resub", params, system, text)

    def _subgift(self, ch: _Channel, gifter: _Chatter, origin: str | None) -> str:
        rng = self._rng
        _, to = self._chatter(ch)
        plan = rng.choice(("1000", "1000", "2000"))
        params = (
            f"msg-param-gift-months=1;msg-param-months={rng.randint(1, 30)};"
            f"msg-param-origin-id={origin or self._new_id()};msg-param-recipient-display-name={to.name};"
            f"msg-param-recipient-id={to.user_id};msg-param-recipient-user-name={to.login};"
            f"msg-param-sender-count=0;"
            f"msg-param-sub-plan-name={escape_tag_value(f'Channel Subscription ({ch.login})')};"
            f"msg-param-sub-plan={plan};"
        )
        system = f"{gifter.name} gifted a Tier {plan[0]} sub to {to.name}!"
        return self._notice(ch, gifter, "subgift", params, system)

    def _single_gift(self, ch: _Channel) -> str:
        return self._subgift(ch, self._chatter(ch)[1], origin=None)

    def _timeout(self, ch: _Channel) -> str:
        return self._clearchat(ch, ban=False)

    def _ban(self, ch: _Channel) -> str:
        return self._clearchat(ch, ban=True)

    def _gift_bomb(self, ch: _Channel) -> str:
        rng = self._rng
        _, who = self._chatter(ch)
        count = rng.choice((1, 5, 5, 5, 10, 10, 20, 50))
        ch.gifts_total += count
        origin = self._new_id()
        params = (f"msg-param-mass-gift-count={count};msg-param-origin-id={origin};"
                  f"msg-param-sender-count={ch.gifts_total};msg-param-sub-plan=1000;")  # fmt: skip
        system = f"{who.name} is gifting {count} Tier 1 Subs to {ch.login}'s community!"
        line = self._notice(ch, who, "submysterygift", params, system)
        # The individual gifts follow the announcement, one line each, as Twitch sends them.
        self._pending.extend(self._subgift(ch, who, origin) for _ in range(count))
        ch.mood = min(1.0, ch.mood + 0.4)
        ch.wave = make_text([rng.choice(("PogChamp", "POGGERS", "HYPERS"))] * rng.randint(1, 3))
        ch.wave_until = self.elapsed_s + 6.0
        return line

    def _raid(self, ch: _Channel) -> str:
        rng = self._rng
        raider = self._new_chatter(ch)
        viewers = int(rng.lognormvariate(5.0, 1.2)) + 2
        params = (f"msg-param-displayName={raider.name};msg-param-login={raider.login};"
                  f"msg-param-viewerCount={viewers};")  # fmt: skip
        ch.wave = make_text(["VoHiYo", rng.choice(("HeyGuys", "peepoHappy")), "RAID"])
        ch.wave_until = self.elapsed_s + 10.0
        ch.hype = max(ch.hype, 3.0)
        ch.hype_until = self.elapsed_s + 20.0
        self._reweigh()
        return self._notice(ch, raider, "raid", params, f"{viewers} raiders from {raider.name} have joined!")

    def _cheer(self, ch: _Channel) -> str:
        rng = self._rng
        _, who = self._chatter(ch)
        bits = rng.choice((1, 50, 100, 100, 500, 1000, 5000))
        text = _shifted(ch.pools[0][int(rng.random() * _POOL_SIZE)], f"Cheer{bits} ")
        msg_id = self._new_id()
        ch.recent.append((msg_id, who, text.text))
        return (
            f"@{_with_badge(who.head, f'bits/{min(bits, 1000)}')};bits={bits};"
            f"emotes={text.tag};first-msg=0;flags=;id={msg_id};mod={who.mod};returning-chatter=0;"
            f"room-id={ch.room_id};subscriber={who.sub};tmi-sent-ts={self._ts()};turbo=0;"
            f"user-id={who.user_id};user-type="
            f" :{who.login}!{who.login}@{who.login}.tmi.twitch.tv PRIVMSG #{ch.login} :{text.text}"
        )

    def _clearmsg(self, ch: _Channel) -> str:
        if not ch.recent:
            return self._privmsg(ch, 1.0)
        i = int(self._rng.random() * len(ch.recent))
        msg_id, who, text = ch.recent[i]
        del ch.recent[i]  # a message is deleted once
        return (
            f"@login={who.login};room-id={ch.room_id};target-msg-id={msg_id};tmi-sent-ts={self._ts()}"
            f" :tmi.twitch.tv CLEARMSG #{ch.login} :{text}"
        )

    def _clearchat(self, ch: _Channel, ban: bool) -> str:
        if not ch.recent:
            return self._privmsg(ch, 1.0)
        who = ch.recent[int(self._rng.random() * len(ch.recent))][1]
        duration = "" if ban else f"ban-duration={self._rng.choice((1, 10, 60, 300, 600, 3600, 86400))};"
        return (
            f"@{duration}room-id={ch.room_id};target-user-id={who.user_id};tmi-sent-ts={self._ts()}"
            f" :tmi.twitch.tv CLEARCHAT #{ch.login} :{who.login}"
        )


def _channel_logins(channels: int | Sequence[str]) -> list[str]:
    if isinstance(channels, int):
        if channels < 1:
            raise ValueError("channels must be at least 1")
        names = list(vocab.CHANNEL_NAMES[:channels])
        names += [f"synth_chan_{i:05d}" for i in range(len(names), channels)]
        return names
    logins = [c.lower().lstrip("#") for c in channels]
    if not logins:
        raise ValueError("channels must not be empty")
    for login in logins:
        if not _LOGIN.match(login):
            raise ValueError(f"invalid channel name {login!r}: expected 1-25 of [a-z0-9_]")
    if len(set(logins)) != len(logins):
        raise ValueError("channel names must be unique")
    return logins


def generate_lines(
    count: int,
    channels: int | Sequence[str] = 4,
    seed: int = 0,
    rate: float = DEFAULT_RATE,
    start_ms: int = 1_700_000_000_000,
) -> Iterator[str]:
    """``count`` synthetic raw IRC lines, as fast as one core makes them (no pacing)."""
    lines = SyntheticChat(channels, rate, seed, start_ms).lines()
    for _ in range(count):
        yield next(lines)


class SyntheticSource:
    """A :class:`~chatpulse.sources.base.Source` of synthetic chat (see the module docstring).

    ``rate`` lines per second overall (``None`` or ``0``: as fast as the consumer takes them,
    handing control back to the event loop every few hundred lines); ``duration`` seconds of
    wall-clock time, ``None`` = until :meth:`close`; ``limit``: end after that many lines.
    """

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    name = "synthetic"

    def __init__(
        self,
        channels: int | Sequence[str] = 4,
        rate: float | None = DEFAULT_RATE,
        seed: int = 0,
        duration: float | None = None,
        limit: int | None = None,
        chat: SyntheticChat | None = None,
    ) -> None:
        """``chat``: continue that generator (its channels, sizes and moods) from now instead of
        starting a new one; its own rate applies."""
        if rate is not None and rate < 0:
            raise ValueError("rate must not be negative")
        if duration is not None and duration <= 0:
            raise ValueError("duration must be positive")
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        self.rate = rate or None
        self.duration = duration
        self.limit = limit
        if chat is None:
            chat = SyntheticChat(channels, self.rate or UNPACED_TIMELINE_RATE, seed, now_ms())
        else:
            chat.resume_at(now_ms())
        self._chat = chat
        self._closed = False

    @property
    def channels(self) -> list[str]:
        return self._chat.channels

    async def stream(self) -> AsyncIterator[SourceItem]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = math.inf if self.duration is None else started + self.duration
        chat = self._chat
        offset = chat.elapsed_s  # a continued chat (see __init__) is paced from where it stands
        received = now_ms()
        for count, line in enumerate(itertools.islice(chat.lines(), self.limit)):
            if self._closed:
                return
            if self.rate is not None:
                due = started + chat.elapsed_s - offset
                now = loop.time()
                if due > deadline or now >= deadline:
                    return
                if due - now > 0.002:  # sleep in slices; fast rates naturally batch lines
                    await asyncio.sleep(min(due, deadline) - now)
                    if loop.time() >= deadline or self._closed:
                        return
                received = now_ms()
            elif count % 256 == 0:
                await asyncio.sleep(0)
                if loop.time() >= deadline:
                    return
                # Unpaced, the lines between two yields to the loop arrive together (about a
                # millisecond's worth): one receive time for them, as for lines of one socket read.
                received = now_ms()
            yield RawLine(line, received)

    async def close(self) -> None:
        self._closed = True
