"""WebSocket fan-out load client for `benches/ws_scale.rs` (run by it; not a test).

One asyncio process holds every subscriber socket of a scenario, as a crowd of web clients
would look from the relay: HINTS circle hints with PER_HINT subscribers each. It measures

- the relay's RSS before and after the sockets are attached (per attached subscriber);
- delivery latency: one poster sends POSTS one-message batches, one at a time, round robin
  over the hints; a sample is the time from just before the POST is written until one
  subscriber of that hint has the frame (parsed, in this process), so every post yields
  PER_HINT samples and the client's own share is included;
- the relay's CPU time (user + system, from /proc) spent during the posting phase.

With BACKLOG > 0, every hint first gets BACKLOG messages of about 5 KB, which each socket
receives as its replay on connect before it counts as attached: the RSS figure then includes
what a socket keeps after sending a large replay.

It speaks only the public relay API (POST /v1/messages, GET /v1/relay/ws), so the same run
works against felund-relay and the reference aiohttp relay. Prints one JSON object on stdout.

Usage: ws_scale_client.py BASE_URL RELAY_PID HINTS PER_HINT POSTS [BACKLOG]
"""

import asyncio
import json
import os
import resource
import sys
import time

import aiohttp

# Opening sockets: at most this many handshakes in flight (the listen backlog stays short).
CONNECT_CONCURRENCY = 64
# Generous bounds: a bench must end, but how fast is what it measures, not what it asserts.
DELIVERY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 60.0
# RSS counts as settled when two readings this far apart agree within 1 %.
SETTLE_STEP_S = 0.25
SETTLE_MAX_S = 10.0
# Backlog messages: this much padding each, posted this many per batch.
BACKLOG_PAD = 5000
BACKLOG_BATCH = 25


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_samples, q):
    return sorted_samples[min(len(sorted_samples) - 1, int(len(sorted_samples) * q))]


def message(msg_id):
    return {
        "msg_id": msg_id,
        "circle_id": "66687aadf862bd776c8fc18b",
        "channel_id": "general",
        "author_node_id": "a3f8b2c4d5e6f708192a3b4c",
        "created_ts": 1_700_000_000,
        "enc": {
            "alg": "AES-256-GCM",
            "key_id": "epoch-0",
            "nonce": "AAAAAAAAAAAAAAAA",
            "ciphertext": "B" * 64,
        },
    }


class Waiter:
    """Arrival times of one message at the subscribers of its hint."""

    def __init__(self, expected):
        self.expected = expected
        self.times = []
        self.done = asyncio.Event()

    def arrived(self, at):
        self.times.append(at)
        if len(self.times) >= self.expected:
            self.done.set()


async def main():
    base, pid = sys.argv[1], int(sys.argv[2])
    hints, per_hint, posts = (int(a) for a in sys.argv[3:6])
    backlog = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    subscribers = hints * per_hint
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < subscribers + 64:
        sys.exit(f"open-file limit {hard} is too low for {subscribers} sockets")

    ws_base = base.replace("http://", "ws://", 1)
    run = f"{os.getpid():x}{int(time.time()) % 100000:x}"
    names = [f"scale-{run}-{h:06d}" for h in range(hints)]
    pending = {}

    async def reader(ws):
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            at = time.perf_counter()
            data = json.loads(frame.data)
            if data.get("t") != "MESSAGES":
                continue
            for m in data.get("messages", []):
                waiter = pending.get(m.get("msg_id"))
                if waiter is not None:
                    waiter.arrived(at)

    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        post_url = f"{base}/v1/messages"

        async def post(hint, msg_id, expected):
            body = json.dumps({"circle_hint": hint, "messages": [message(msg_id)]}).encode()
            waiter = Waiter(expected)
            pending[msg_id] = waiter
            started = time.perf_counter()
            async with http.post(
                post_url, data=body, headers={"Content-Type": "application/json"}
            ) as resp:
                reply = await resp.json(content_type=None)
                answered = time.perf_counter()
                if resp.status != 200 or reply.get("stored") != 1:
                    sys.exit(f"post refused: {resp.status} {reply}")
            await asyncio.wait_for(waiter.done.wait(), DELIVERY_TIMEOUT_S)
            del pending[msg_id]
            return started, answered, waiter.times

        # Warm-up: the relay's lazy start-up work (database pages, first upgrade) is not
        # counted as the subscribers' memory.
        warm = await http.ws_connect(f"{ws_base}/v1/relay/ws?circle_hint=warm-{run}&node_id=w")
        warm_reader = asyncio.create_task(reader(warm))
        await post(f"warm-{run}", f"warm-{run}-0001", 1)
        await warm.close()
        await warm_reader

        for hint in names if backlog else []:
            for start in range(0, backlog, BACKLOG_BATCH):
                batch = [
                    dict(message(f"backlog-{run}-{hint[-6:]}-{n:06d}"), pad="p" * BACKLOG_PAD)
                    for n in range(start, min(backlog, start + BACKLOG_BATCH))
                ]
                body = {"circle_hint": hint, "messages": batch}
                async with http.post(post_url, json=body) as resp:
                    if resp.status != 200:
                        sys.exit(f"backlog refused: {resp.status} {await resp.text()}")

        rss_before = rss_kb(pid)
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def attach(hint, i):
            async with gate:
                url = f"{ws_base}/v1/relay/ws?circle_hint={hint}&node_id=sub-{i:06d}"
                ws = await http.ws_connect(url, autoping=True, max_msg_size=4 << 20)
                replayed = 0
                while replayed < backlog:
                    frame = await ws.receive()
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        sys.exit(f"replay ended after {replayed} messages: {frame.type}")
                    replayed += len(json.loads(frame.data).get("messages", []))
                return ws

        t0 = time.perf_counter()
        sockets = await asyncio.wait_for(
            asyncio.gather(
                *(attach(names[i % hints], i) for i in range(subscribers))
            ),
            CONNECT_TIMEOUT_S + subscribers / 100,
        )
        connect_s = time.perf_counter() - t0
        readers = [asyncio.create_task(reader(ws)) for ws in sockets]

        rss_attached = rss_kb(pid)
        waited = 0.0
        while waited < SETTLE_MAX_S:
            await asyncio.sleep(SETTLE_STEP_S)
            waited += SETTLE_STEP_S
            now = rss_kb(pid)
            if abs(now - rss_attached) <= rss_attached / 100:
                rss_attached = now
                break
            rss_attached = now

        # Post to every hint in turn, spread over the whole set when there are more hints
        # than posts.
        stride = max(1, hints // posts) if posts < hints else 1
        samples, post_ms = [], []
        cpu_before = cpu_seconds(pid)
        phase = time.perf_counter()
        for i in range(posts):
            hint = names[(i * stride) % hints]
            started, answered, times = await post(hint, f"lat-{run}-{i:08d}", per_hint)
            post_ms.append((answered - started) * 1000)
            samples.extend((t - started) * 1000 for t in times)
        phase = time.perf_counter() - phase
        cpu = cpu_seconds(pid) - cpu_before

        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    samples.sort()
    post_ms.sort()
    print(
        json.dumps(
            {
                "subscribers": subscribers,
                "hints": hints,
                "per_hint": per_hint,
                "posts": posts,
                "backlog": backlog,
                "samples": len(samples),
                "p50_ms": percentile(samples, 0.50),
                "p99_ms": percentile(samples, 0.99),
                "max_ms": samples[-1],
                "post_answer_p50_ms": percentile(post_ms, 0.50),
                "rss_before_kb": rss_before,
                "rss_attached_kb": rss_attached,
                "connect_s": connect_s,
                "relay_cpu_s": cpu,
                "phase_s": phase,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
