"""Privacy: the opt-out list applied at ingest, keyed-hash pseudonyms, and forgetting a user.

- :mod:`.optout`: the opt-out file (logins or ids), re-read when it changes.
- :mod:`.pseudonym`: ``privacy.hash_users``: HMAC-SHA256 pseudonyms instead of logins and ids.
- :mod:`.filter`: :class:`~.filter.PrivacyFilter`, the one step every ingest path runs on parsed
  events (embedded run, Kafka ingest, archive import): opted-out users' messages withheld and
  only counted, events naming them withheld or stripped, then pseudonyms. Pure given the list.
- :mod:`.forget`: ``chatpulse forget``: what the store holds about a user, and deleting it.
"""
