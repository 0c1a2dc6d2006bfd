"""The bookkeeping behind an event stream that resumes after felundd restarts.

Pure state, no I/O, shared by the blocking and the asyncio client. A resumed stream
subscribes with the ``seq`` of the last message it delivered
(``SubscribeRequest.after_seq``) and felundd first replays every chat message stored
after it: each message is delivered once, in felundd's storage order, and none stored
while the stream was away is missed (felundd replays at most 10,000; beyond that a
``lagged`` event says so). Events that are not messages (channel, circle, peer, name
and read changes) are not replayed; the caller can re-list them.
"""

from __future__ import annotations

import grpc

from felund import api, limits


class Resume:
    """Where one resumable subscription stands."""

    def __init__(self) -> None:
        #: The seq of the last message delivered; before the first, the newest
        #: message stored when the stream started (None until then).
        self.after_seq: int | None = None
        self._failures = 0

    def subscribed(self) -> None:
        """felundd accepted a subscription: the backoff starts over."""
        self._failures = 0

    def delivered(self, event: api.Event) -> None:
        """Note an event handed to the caller."""
        if event.HasField("message"):
            self.after_seq = max(self.after_seq or 0, event.message.seq)

    def broke(self) -> float:
        """The stream ended or failed; how long to wait before resubscribing (felund's
        retry policy: doubling from RECONNECT_INITIAL_S up to RECONNECT_MAX_S)."""
        delay = min(limits.RECONNECT_INITIAL_S * 2.0**self._failures, limits.RECONNECT_MAX_S)
        self._failures = min(self._failures + 1, 32)
        return delay


def retryable(code: grpc.StatusCode) -> bool:
    """Whether a failed call is felundd being away (resubscribe) rather than a refusal."""
    return code == grpc.StatusCode.UNAVAILABLE
