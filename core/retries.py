"""Exponential back-off with jitter for task retries."""

import random
from collections.abc import Callable


def backoff_seconds(
    retries: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Seconds before retry number `retries + 1`: the step min(cap, base × 2^retries), of which half is
    waited for sure and half at random ("equal jitter"), so the retries of many tasks that failed together
    (a database restart, an endpoint outage) spread out instead of coming back at the same instant."""
    step: float = min(cap, base * 2**retries)
    return step / 2 + rng() * step / 2
