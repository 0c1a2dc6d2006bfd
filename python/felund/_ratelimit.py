"""How often a bot answers: a token bucket per author and one for everyone (pure)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from felund import limits


@dataclass
class _Bucket:
    tokens: float
    at: float

    def take(self, now: float, burst: int, refill_s: float) -> bool:
        self.tokens = min(float(burst), self.tokens + (now - self.at) / refill_s)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class RateLimit:
    """Whether a command may be answered now; limits are in :mod:`felund.limits`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._total = _Bucket(float(limits.BOT_BURST_TOTAL), clock())
        self._authors: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, author: str) -> bool:
        """Take a token for ``author`` (and one from everyone's bucket) if both have one."""
        now = self._clock()
        bucket = self._authors.pop(author, None) or _Bucket(float(limits.BOT_BURST_PER_AUTHOR), now)
        self._authors[author] = bucket  # most recently seen last
        if len(self._authors) > limits.BOT_TRACKED_AUTHORS:
            self._authors.popitem(last=False)
        # The author's bucket first: a flooding author spends their own tokens only,
        # never everyone's.
        if not bucket.take(now, limits.BOT_BURST_PER_AUTHOR, limits.BOT_REFILL_PER_AUTHOR_S):
            return False
        if not self._total.take(now, limits.BOT_BURST_TOTAL, limits.BOT_REFILL_TOTAL_S):
            bucket.tokens += 1.0  # not answered: give the author's token back
            return False
        return True
