"""A member flooding a bot with commands is answered a burst, then slowly; others are
still answered (pure, with a fake clock)."""

from __future__ import annotations

import pytest

from felund import Bot, api, limits
from felund._ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_author_gets_a_burst_then_one_command_per_refill() -> None:
    clock = Clock()
    limit = RateLimit(clock)
    answered = sum(limit.allow("mallory") for _ in range(50))
    assert answered == limits.BOT_BURST_PER_AUTHOR
    assert limit.allow("alice")  # another member is not held up
    clock.now += limits.BOT_REFILL_PER_AUTHOR_S
    assert limit.allow("mallory")
    assert not limit.allow("mallory")


def test_many_author_ids_share_one_total_bucket_and_bounded_memory() -> None:
    clock = Clock()
    limit = RateLimit(clock)
    answered = sum(limit.allow(f"sock{i}") for i in range(limits.BOT_TRACKED_AUTHORS + 500))
    assert answered == limits.BOT_BURST_TOTAL
    assert len(limit._authors) == limits.BOT_TRACKED_AUTHORS
    clock.now += limits.BOT_REFILL_TOTAL_S
    assert limit.allow("alice")


def test_a_flooding_member_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    bot = Bot(circle="c")
    bot.command("echo")(lambda msg, args: args)

    def ask(author: str, text: str) -> str | None:
        return bot.answer(api.Message(msg_id="m", author_node_id=author, text=text))

    replies = [ask("mallory" * 3, f"!echo {i}") for i in range(30)]
    assert replies[:limits.BOT_BURST_PER_AUTHOR] == [str(i) for i in range(10)]
    assert set(replies[limits.BOT_BURST_PER_AUTHOR:]) == {None}
    assert caplog.text.count("too many commands") == 1
    # Chat is not a command and costs nothing; an honest member is answered.
    assert ask("alice", "!echo hi") == "hi"
