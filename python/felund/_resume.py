"""The bookkeeping behind an event stream that resumes after felundd restarts.

Pure state, no I/O, shared by the blocking and the asyncio client: when to wait, which
messages a reconnect must look up again, and which were delivered already.

What a resumed stream delivers: every message stored while it was away whose
``created_ts`` is at least the later of (when the stream was first subscribed) and
(when it broke minus :data:`~felund.limits.GAP_SLACK_S`), up to the newest
:data:`~felund.limits.GAP_FILL_PAGE` per joined channel. What it may miss: messages
that arrive during the gap but were *created* earlier (a peer syncing old history),
more than a page per channel, and every event that is not a message (channel,
circle, peer and name changes), which the caller can re-list.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from felund import limits


class Resume:
    """State of one resumable subscription."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._first_subscribed: float | None = None
        self._broken_at: float | None = None
        self._failures = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    def subscribed(self) -> int | None:
        """Record a subscription felundd accepted; the ``created_ts`` cutoff of the
        gap to fill, or None when nothing was missed (the first subscription)."""
        now = self._clock()
        self._failures = 0
        if self._first_subscribed is None:
            self._first_subscribed = now
            return None
        if self._broken_at is None:
            return None
        start = max(self._first_subscribed, self._broken_at - limits.GAP_SLACK_S)
        return math.floor(start)

    def filled(self) -> None:
        """The gap was filled: the next break starts a new one."""
        self._broken_at = None

    def broke(self) -> float:
        """Record that the stream ended or failed; how long to wait before resubscribing."""
        if self._broken_at is None and self._first_subscribed is not None:
            self._broken_at = self._clock()
        delay = min(limits.RECONNECT_INITIAL_S * 2.0**self._failures, limits.RECONNECT_MAX_S)
        self._failures = min(self._failures + 1, 32)
        return delay

    def first_delivery(self, msg_id: str) -> bool:
        """True the first time ``msg_id`` is offered; remembers the last SEEN_IDS ids."""
        if msg_id in self._seen:
            self._seen.move_to_end(msg_id)
            return False
        self._seen[msg_id] = None
        if len(self._seen) > limits.SEEN_IDS:
            self._seen.popitem(last=False)
        return True
