"""Common words: English ones, and the function words of the languages most common in Twitch chat
besides English (written for ChatPulse from general knowledge of those languages).

The language gate asks the identifier only about messages with more of another language's
common words than English ones, and trusts its answer only when it names one of those languages:
short chat is too ambiguous for either signal alone ("juicer pass" reads as French to an
identifier, "die" is English too).
"""

from __future__ import annotations

from typing import Final

COMMON_WORDS: Final = frozenset(
    """
    a about above after again against all almost also always am an and any anyone anything are
    aren't around as ask at away back be because been before being below between both but by can
    can't cant come could couldn't day did didn't do does doesn't doing don't dont done down during
    each else even ever every few find first for from game games gave get gets getting give go goes
    going gone got gotta guy guys had has hasn't have haven't having he he's hes her here hers
    herself him himself his how i i'd i'll i'm i've id if im in into is isn't it it's its itself
    ive just keep kind know last least left less let let's lets like little look looks lot make
    man many may me mean might mine more most much must my myself need never new next no nor not
    now of off often oh ok okay old on once one only or other our ours ourselves out over own
    people play played playing plays please point put really right said same saw say says see seen
    she she's should shouldn't show since so some someone something still stream streamer such
    sure take talk tell than that that's thats the their theirs them themselves then there there's
    these they they're think this those though through time to today too took try trying two u
    under until up upon us use used very want wanted was wasn't watch watching way we we're well
    went were weren't what what's whats when where which while who who's whole whom whose why will
    with without won't would wouldn't y'all ya yeah yes yet you you'd you'll you're you've your
    yours yourself yourselves chat clip lol lmao omg wtf bro dude bruh gonna wanna kinda
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Function words and chat staples per ISO 639-1 code; words that are also English are removed
# where these lists are used. Laughter (jajaja, kkkk) is left out on purpose: it reads the same
# in every language, and the Twitch lexicon scores it.
FOREIGN_WORDS: Final = {
    "es": "que qué de el la los las es por para con muy pero como cómo esta está este eso esto una uno "
    "del al lo le se su yo tu mi más mas porque bueno buena hola gracias quien quién donde dónde "
    "eres hay ya nada todo también sí vamos tengo tiene hace ahora siempre",
    "pt": "que de o os as é não nao um uma com por para muito bom boa noite dia isso esse essa mais mas "
    "eu você voce tá foi ser obrigado vai tem aqui agora nossa mano cara também",
    "de": "das ist der die und nicht ich du wir ein eine mit für fur den dem wie was auch noch schon "
    "aber sehr gut danke geil spät ja nein bitte doch mal hier jetzt heute warum weil oder sind "
    "habe hast wird kann",
    "fr": "c'est le la les des est et pas je tu il elle une un pour que qui dans avec mais très bonjour "
    "merci tout monde nul mdr oui non ça ca cette sont suis fait bien aussi trop quoi",
    "it": "che non il della sono è per una molto grazie ciao bello questo questa anche perché come "
    "tutto sei siamo",
    "sv": "och jag det är inte som på med vi sitter har för men vad hur att du han hon nej tack bra",
    "nl": "het een ik niet dat zijn wat maar met je jij wij ook nog naar heel goed dank",
    "pl": "nie jest się że co jak ale tak dla czy już jestem był była dobrze dzięki kurwa",
    "tr": "bir ve bu ne çok için değil var yok ben sen biz mi mı ama gibi daha",
}
