"""The resuming event stream's bookkeeping (pure): where to resume, backoff."""

from __future__ import annotations

import grpc

from felund import api, limits
from felund._resume import Resume, retryable


def test_the_stream_resumes_after_the_last_message_delivered() -> None:
    r = Resume()
    assert r.after_seq is None
    r.after_seq = 5  # the newest message stored when the stream started
    r.delivered(api.Event(message=api.Message(msg_id="a", seq=7)))
    r.delivered(api.Event(display_name=api.DisplayNameEvent(node_id="n")))
    assert r.after_seq == 7
    r.delivered(api.Event(message=api.Message(msg_id="b", seq=6)))  # never backwards
    assert r.after_seq == 7


def test_backoff_doubles_up_to_the_cap_and_resets_on_success() -> None:
    r = Resume()
    r.subscribed()
    delays = [r.broke() for _ in range(10)]
    assert delays[:2] == [limits.RECONNECT_INITIAL_S, 2 * limits.RECONNECT_INITIAL_S]
    assert delays[-1] == limits.RECONNECT_MAX_S
    r.subscribed()
    assert r.broke() == limits.RECONNECT_INITIAL_S


def test_only_felundd_being_away_is_retried() -> None:
    assert retryable(grpc.StatusCode.UNAVAILABLE)
    assert not retryable(grpc.StatusCode.NOT_FOUND)
