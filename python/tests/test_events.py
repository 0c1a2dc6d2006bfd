"""Live events that resume after felundd restarts, delivering what was missed, once."""

from __future__ import annotations

import asyncio
import queue
import signal
import threading
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from conftest import DEADLINE_S, Felundd, wait_until

import felund
from felund import api


def start_next_text(events: Iterator[api.Event]) -> queue.Queue[str | BaseException]:
    """Advance ``events`` to its next message on a daemon thread (so a failing test
    cannot hang on it); its text, or what it raised, arrives on the returned queue."""
    out: queue.Queue[str | BaseException] = queue.Queue()

    def run() -> None:
        try:
            out.put(next(e.message.text for e in events if e.HasField("message")))
        except BaseException as e:  # handed to the test thread
            out.put(e)

    threading.Thread(target=run, daemon=True).start()
    return out


def result(pending: queue.Queue[str | BaseException]) -> str:
    """What :func:`start_next_text` got, failing after the deadline."""
    try:
        got = pending.get(timeout=DEADLINE_S)
    except queue.Empty:
        pytest.fail(f"no message event within {DEADLINE_S:.0f}s")
    if isinstance(got, BaseException):
        raise got
    return got


def next_text(events: Iterator[api.Event]) -> str:
    return result(start_next_text(events))


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stop", "kill"])
def test_events_resume_after_a_restart_and_deliver_the_gap_once(node: Felundd, how: int) -> None:
    with node.client() as c:
        c.create_circle("friends")
        events = c.events("friends")
        # The generator subscribes when first advanced; the send goes after that.
        first = start_next_text(events)
        wait_subscribed(c)
        c.send_message("friends", "before")
        assert result(first) == "before"

        node.restart(how)
        # Stored while nobody iterates: the stream is broken and not yet resumed.
        with node.client() as other:
            other.send_message("friends", "during the gap")
        assert next_text(events) == "during the gap"
        c.send_message("friends", "after")
        # "before" and "during the gap" are not delivered again.
        assert next_text(events) == "after"


def wait_subscribed(client: felund.Client) -> None:
    wait_until("the subscription", lambda: client.get_node_info().subscriber_count >= 1)


def test_without_resume_the_stream_ends_when_felundd_stops(node: Felundd) -> None:
    with node.client() as c:
        c.create_circle("friends")
        pending = start_next_text(c.events("friends", resume=False))
        wait_subscribed(c)
        node.stop()
        with pytest.raises(StopIteration):  # the stream ended, with no message in it
            result(pending)


def test_an_unknown_circle_is_refused_not_retried(node: Felundd) -> None:
    with node.client() as c, pytest.raises(felund.ApiError) as e:
        next(c.events("no-such-circle"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_asyncio_events_resume_after_a_restart(node: Felundd) -> None:
    async def next_text(events: AsyncIterator[api.Event]) -> str:
        async def wait() -> str:
            async for event in events:
                if event.HasField("message"):
                    return event.message.text
            raise AssertionError("the event stream ended")
        return await asyncio.wait_for(wait(), DEADLINE_S)

    async def scenario() -> list[str]:
        async with felund.AsyncClient(node.socket) as c:
            await c.create_circle("friends")
            events = c.events("friends")
            first = asyncio.ensure_future(next_text(events))
            while (await c.get_node_info()).subscriber_count < 1:
                await asyncio.sleep(0.05)
            await c.send_message("friends", "before")
            got = [await first]
            await asyncio.to_thread(node.restart)
            async with felund.AsyncClient(node.socket) as other:
                await other.send_message("friends", "during the gap")
            got.append(await next_text(events))
            await c.send_message("friends", "after")
            got.append(await next_text(events))
            return got

    assert asyncio.run(scenario()) == ["before", "during the gap", "after"]
