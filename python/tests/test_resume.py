"""The resuming event stream's bookkeeping (pure): backoff, the gap to fill, once-only."""

from __future__ import annotations

from felund import api, limits
from felund._gap import missed
from felund._resume import Resume


class Clock:
    def __init__(self) -> None:
        self.now = 1000.5

    def __call__(self) -> float:
        return self.now


def test_the_first_subscription_fills_nothing() -> None:
    r = Resume(Clock())
    assert r.subscribed() is None
    assert r.subscribed() is None  # a retry without a break neither


def test_a_reconnect_fills_from_the_break_minus_slack_but_never_before_the_start() -> None:
    clock = Clock()
    r = Resume(clock)
    r.subscribed()
    clock.now = 2000.0
    r.broke()
    clock.now = 2003.0
    r.broke()  # a failed retry does not move the start of the gap
    assert r.subscribed() == 2000 - limits.GAP_SLACK_S
    r.filled()
    early = Resume(clock := Clock())
    early.subscribed()
    clock.now += 2
    early.broke()
    assert early.subscribed() == 1000


def test_backoff_doubles_up_to_the_cap_and_resets_on_success() -> None:
    r = Resume(Clock())
    r.subscribed()
    delays = [r.broke() for _ in range(10)]
    assert delays[:2] == [limits.RECONNECT_INITIAL_S, 2 * limits.RECONNECT_INITIAL_S]
    assert delays[-1] == limits.RECONNECT_MAX_S
    r.subscribed()
    assert r.broke() == limits.RECONNECT_INITIAL_S


def test_each_message_is_delivered_once_within_a_bounded_memory() -> None:
    r = Resume(Clock())
    assert r.first_delivery("a")
    assert not r.first_delivery("a")
    for i in range(limits.SEEN_IDS):
        r.first_delivery(str(i))
    assert r.first_delivery("a")  # the oldest id was forgotten


def test_the_gap_is_what_was_created_since_the_cutoff_oldest_first() -> None:
    def page(*stamps: int) -> api.ListMessagesResponse:
        return api.ListMessagesResponse(messages=[
            api.Message(msg_id=str(ts), created_ts=ts) for ts in stamps])
    pages = [("c", "general", page(90, 100, 130)), ("c", "dev", page(99, 120))]
    assert [m.created_ts for m in missed(pages, 100)] == [100, 120, 130]
