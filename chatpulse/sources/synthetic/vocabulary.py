"""Vocabulary of the synthetic chat generator: emotes, phrases, copypastas, channel personalities.

Plain data, no logic. Twitch global emote ids are the ids Twitch sends in the ``emotes`` tag
(``static-cdn.jtvnw.net/emoticons/v2/<id>/...``); PogChamp is the 2021 replacement id. The
third-party names (KEKW, Sadge, ...) are the 7TV/BTTV/FFZ emotes chatters type as plain words:
IRC tags never mark them, which is exactly what :mod:`chatpulse.emotes` has to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# name -> Twitch emote id (global emotes, available in every channel).
TWITCH_EMOTES: Final[dict[str, str]] = {
    "Kappa": "25",
    "PogChamp": "305954156",
    "LUL": "425618",
    "BibleThump": "86",
    "Kreygasm": "41",
    "DansGame": "33",
    "SMOrc": "52",
    "MrDestructoid": "28",
    "PJSalt": "36",
    "BloodTrail": "69",
    "FrankerZ": "65",
    "4Head": "354",
    "FailFish": "360",
    "ResidentSleeper": "245",
    "NotLikeThis": "58765",
    "SeemsGood": "64138",
    "BabyRage": "22639",
    "WutFace": "28087",
    "CoolStoryBob": "123171",
    "Jebaited": "114836",
    "HeyGuys": "30259",
    "VoHiYo": "81274",
    "KappaPride": "55338",
    "EleGiggle": "4339",
}

# Emotes by the mood they usually carry. Names not in TWITCH_EMOTES are third-party emotes.
POSITIVE_EMOTES: Final = (
    "PogChamp", "Kreygasm", "SeemsGood", "Pog", "PogU", "POGGERS", "EZ", "Clap", "catJAM",
    "widepeepoHappy", "peepoHappy", "pepeD", "HYPERS", "VoHiYo", "BloodTrail",
)  # fmt: skip
NEGATIVE_EMOTES: Final = (
    "BibleThump", "NotLikeThis", "DansGame", "Sadge", "PepeHands", "FeelsBadMan", "WeirdChamp",
    "monkaS", "BabyRage", "WutFace", "ResidentSleeper", "FailFish", "PJSalt", "COPIUM",
)  # fmt: skip
NEUTRAL_EMOTES: Final = (
    "Kappa", "LUL", "KEKW", "OMEGALUL", "4Head", "PepeLaugh", "monkaHmm", "Jebaited", "HeyGuys",
    "FrankerZ", "EleGiggle", "CoolStoryBob", "forsenCD", "HUH", "Okayge",
)  # fmt: skip

POSITIVE_PHRASES: Final = (
    "W", "W streamer", "insane play", "LETS GOOO", "what a clutch", "hes cracked", "so clean",
    "best stream ever", "GG", "absolute gamer", "actually goated", "that was sick", "huge",
    "nice one", "love this", "big W", "he did it", "clip it", "unreal aim", "so good",
    "this song slaps", "gz", "perfect run", "easy clap",
)  # fmt: skip
NEGATIVE_PHRASES: Final = (
    "L", "L streamer", "trash", "so bad", "unlucky", "throwing", "he choked", "worst game",
    "this is painful", "uninstall", "bro fell off", "garbage team", "rigged", "0 iq play",
    "why would you do that", "sadly", "its over", "hes washed", "griefing", "cringe", "lag again",
    "not like this", "so boring", "ff",
)  # fmt: skip
NEUTRAL_PHRASES: Final = (
    "what game is this", "first time here", "hi chat", "how long is stream today", "what rank",
    "song name?", "is this live", "ok", "true", "chat is fast", "where is he from", "lol",
    "what time is it there", "just got here", "what did i miss", "he said it", "brb food",
    "any% or 100%?", "what sens", "monday again", "same", "real", "typing in chat", "xd",
)  # fmt: skip

# Emoji are multi-unit in UTF-16 but one code point each: they shift Twitch's emote positions
# for clients that count wrongly, so some messages carry them.
EMOJI: Final = ("😂", "🔥", "💀", "😭", "👀", "❤️", "🙏", "🤡")

COPYPASTAS: Final = (
    "I'm not saying he's the best player ever but I've never seen anyone else do that LUL",
    "If you're reading this, you've been in a coma for 20 years. Please wake up, we miss you",
    "Chat, I just want to say this stream has been the highlight of my week PogChamp",
    "⠀⠀⠀⠀ MODS ⠀⠀⠀⠀ they're doing it again ⠀⠀⠀⠀ NotLikeThis",
    "Remember to stay hydrated chat, streamer too Kappa",
    "This is the part where he says the thing and everybody claps Clap Clap Clap",
)

GAME_EVENTS_POSITIVE: Final = ("clutch 1v4", "world record pace", "boss down", "pentakill", "ace")
GAME_EVENTS_NEGATIVE: Final = ("died to fall damage", "lost the final", "game crashed", "reset")

CHATTER_NAME_PARTS: Final = (
    "dank", "pixel", "frog", "gamer", "night", "cozy", "salty", "lurk", "mega", "tiny", "wolf",
    "byte", "noodle", "ghost", "turbo", "spicy", "lazy", "happy", "chonk", "potato", "ninja",
    "clip", "meme", "boomer", "zoomer", "crispy", "moon", "star", "kek", "pog", "vibe", "rat",
)  # fmt: skip

COLORS: Final = (
    "#FF0000", "#0000FF", "#008000", "#B22222", "#FF7F50", "#9ACD32", "#FF4500", "#2E8B57",
    "#DAA520", "#D2691E", "#5F9EA0", "#1E90FF", "#FF69B4", "#8A2BE2", "#00FF7F", "",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Personality:
    """How one synthetic channel behaves.

    ``size`` is the channel's share of the overall rate; ``emote_rate`` how many messages carry
    emotes; ``negativity`` the baseline mood (-1 hostile .. +1 wholesome); ``subs_rate`` and
    ``mod_strictness`` scale subs/gifts and timeouts/bans/deletions.
    """

    name: str
    size: float
    emote_rate: float
    negativity: float
    subs_rate: float
    mod_strictness: float
    chatters: int


PERSONALITIES: Final = (
    Personality("big_variety", size=6.0, emote_rate=0.6, negativity=0.0, subs_rate=1.5,
                mod_strictness=1.0, chatters=4000),
    Personality("competitive_fps", size=3.0, emote_rate=0.5, negativity=0.35, subs_rate=1.0,
                mod_strictness=1.5, chatters=2000),
    Personality("cozy_art", size=1.0, emote_rate=0.4, negativity=-0.45, subs_rate=0.8,
                mod_strictness=0.4, chatters=300),
    Personality("speedrun", size=1.5, emote_rate=0.5, negativity=0.1, subs_rate=0.7,
                mod_strictness=0.8, chatters=600),
    Personality("just_chatting", size=2.5, emote_rate=0.7, negativity=0.15, subs_rate=1.2,
                mod_strictness=1.2, chatters=1500),
)  # fmt: skip

# Valid Twitch logins (lower case, 4-25 of [a-z0-9_], not starting with "_").
CHANNEL_NAMES: Final = (
    "pixelpaladin", "frag_master", "cozybrushes", "speedy_sam", "chatterbox_tv", "nightowl_plays",
    "retro_rex", "mochi_makes", "clutchqueen", "deepdive_dan", "lofi_luna", "grindset_gary",
)  # fmt: skip
