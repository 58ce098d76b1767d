"""The opt-out list and pseudonyms on the real captures: what an opted-out user leaves behind."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chatpulse.events import ChatEvent, ClearChatEvent, MessageEvent, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.privacy.filter import PrivacyFilter
from chatpulse.privacy.optout import OptOutList, OptOutWatcher, add, load
from chatpulse.privacy.pseudonym import Pseudonymiser
from chatpulse.sources.replay import iter_lines

CAPTURES = ["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"]


def _events(shared_data: Path, capture: str) -> list[ChatEvent]:
    return [parse_line(line, 0, "replay") for line in iter_lines(shared_data / "replay" / capture)]


def _texts(value: Any) -> list[str]:
    """Every string inside an event's fields (tags, params, reply parent included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_texts(k), *_texts(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _texts(v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _texts(getattr(value, f.name))]
    return []


def _words(event: ChatEvent) -> set[str]:
    """Every word of an event's fields but its text (a mention is the writer's words)."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "text"}
    if isinstance(event, MessageEvent) and event.reply_parent is not None:
        fields["reply_parent"] = (event.reply_parent.id, event.reply_parent.user_login)
    strings = _texts(fields)
    words = {w.lower().strip(":@!;,") for s in strings for w in s.replace("=", " ").replace("!", " ").split()}
    return words


def _names(event: ChatEvent, login: str, user_id: str) -> bool:
    """Whether any field names the user."""
    words = _words(event)
    return login in words or user_id in words


@pytest.mark.parametrize("capture", CAPTURES)
def test_an_opted_out_chatter_leaves_nothing_but_a_count(shared_data: Path, capture: str) -> None:
    events = _events(shared_data, capture)
    messages = [e for e in events if isinstance(e, MessageEvent)]
    # The busiest chatter who was also timed out: messages and a moderation event name them.
    targets = {e.target_user_login for e in events if isinstance(e, ClearChatEvent)}
    counts = Counter(m.user_login for m in messages if m.user_login in targets)
    login, theirs = counts.most_common(1)[0]
    user_id = next(m.user_id for m in messages if m.user_login == login)
    assert user_id

    privacy = PrivacyFilter(OptOutList(frozenset({login})))
    kept = privacy.apply(events)

    assert not [e for e in kept if _names(e, login, user_id)]
    assert privacy.withheld == theirs
    assert privacy.withheld_events == sum(
        1 for e in events if isinstance(e, ClearChatEvent) and e.target_user_login == login
    )
    others = [e for e in events if not _names(e, login, user_id)]
    assert kept == others, "everyone else's chat passes unchanged, in order"


def test_opting_out_by_id_works_for_a_renamed_user(shared_data: Path) -> None:
    events = _events(shared_data, CAPTURES[1])
    chatter = next(e for e in events if isinstance(e, MessageEvent))
    privacy = PrivacyFilter(OptOutList(frozenset({chatter.user_id or ""})))
    renamed = dataclasses.replace(chatter, user_login="a_new_name")
    assert privacy.apply([renamed]) == [] and privacy.withheld == 1


def test_a_sub_keeps_its_count_but_not_its_subscriber(shared_data: Path) -> None:
    events = _events(shared_data, CAPTURES[0])
    notice = next(e for e in events if isinstance(e, UserNoticeEvent) and e.notice_type == "resub")
    privacy = PrivacyFilter(OptOutList(frozenset({notice.user_login})))
    [kept] = privacy.apply([notice])
    assert isinstance(kept, UserNoticeEvent)
    assert (kept.notice_type, kept.channel, kept.sent_at, kept.id) == (
        notice.notice_type, notice.channel, notice.sent_at, notice.id,
    )  # fmt: skip
    assert not _names(kept, notice.user_login, notice.user_id or "") and not kept.text
    assert kept.params.get("sub-plan-name") == notice.params.get("sub-plan-name"), "plan names are not users"


def test_a_reply_to_an_opted_out_user_keeps_its_text_without_them(shared_data: Path) -> None:
    events = _events(shared_data, CAPTURES[1])
    reply = next(e for e in events if isinstance(e, MessageEvent) and e.reply_parent is not None)
    assert reply.reply_parent is not None
    parent = reply.reply_parent.user_login
    [kept] = PrivacyFilter(OptOutList(frozenset({parent}))).apply([reply])
    assert isinstance(kept, MessageEvent)
    assert kept.text == reply.text and kept.user_login == reply.user_login and kept.reply_parent is None
    assert not any(k.startswith("reply-parent") for k in kept.tags)


def test_the_list_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "opt-out.txt"
    now = [0.0]
    watcher = OptOutWatcher(path, check_every_s=2.0, clock=lambda: now[0])
    assert not watcher.current()
    assert add(path, ["SomeOne", "12345", "someone"]) == ["someone", "12345"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not watcher.current(), "not checked again before check_every_s"
    now[0] = 2.5
    assert watcher.current().matches("someone") and watcher.current().matches(None, "12345")
    path.write_text("someone\nnot a login!\n")
    now[0] = 5.0
    assert watcher.current().matches(None, "12345"), "a broken file keeps the last good list"
    assert add(path.parent / "new" / "list.txt", []) == []


def test_a_bad_list_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "opt-out.txt"
    path.write_text("# people who asked\nfine_user  # by mail\n@another\n\nbad/entry\n")
    with pytest.raises(Exception, match=r"line 5: not a Twitch login"):
        load(path)


@pytest.mark.parametrize("capture", CAPTURES)
def test_pseudonyms_replace_every_login_and_id(shared_data: Path, capture: str) -> None:
    events = _events(shared_data, capture)
    users = {(e.user_login, e.user_id) for e in events if isinstance(e, (MessageEvent, UserNoticeEvent))}
    targets = {(e.target_user_login, e.target_user_id) for e in events if isinstance(e, ClearChatEvent)}
    hashed = PrivacyFilter(None, Pseudonymiser(b"k" * 32)).apply(events)
    left = set().union(*map(_words, hashed))
    named = {name for pair in users | targets for name in pair if name}
    assert len(named) > 50 and not named & left, "no login or id of the capture is left"
    again = PrivacyFilter(None, Pseudonymiser(b"k" * 32)).apply(events)
    assert again == hashed, "one key, one pseudonym per user: counts and chatters keep working"
    other = Pseudonymiser(b"x" * 32)
    first = next(e for e in hashed if isinstance(e, MessageEvent))
    original = next(e for e in events if isinstance(e, MessageEvent))
    assert first.user_login.startswith("u_") and first.user_login != other.login(original.user_login)
    assert first.user_login == first.user_name and first.text == original.text and first.raw is None
