"""Capped exponential backoff with jitter: the one retry delay every adapter uses.

Used for reconnects (IRC), store inserts and their retries: network faults are normal
(DESIGN.md section 9) and many clients cut off at once must not all come back in the same
instant.
"""

from __future__ import annotations

import random

_JITTER = random.Random()  # noqa: S311 - spreads retries; not a security use


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0-based): half fixed, half random, capped.

    ``min(cap, base * 2**attempt)`` split into a fixed half and a uniformly random half ("equal
    jitter"), so the delay still grows while clients spread out.
    """
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, 30))
    return ceiling / 2 + (rng or _JITTER).uniform(0, ceiling / 2)
