"""A browser-side DataChannel peer for felundd's tests, written from the protocol's
DataChannel section (docs/protocol.md §13) with aiortc: it plays the reference web client.

It registers in each circle at the relay as a browser does (signed, transport "ws"), looks
up the peers of the circle "on screen" every few seconds and offers to larger node ids,
polls /v1/signal and answers offers (always from its *first* circle's transport, as the
web client in several circles does), trickles its candidates like Chrome, and speaks
HELLO/AUTH, MSGS_SEND and MSG_NEW with six-key envelope messages.

Driven over stdin/stdout with JSON lines. Commands:
  {"cmd":"send","circle":N,"text":"..."}      author a message, MSG_NEW to open sessions
  {"cmd":"seed","circle":N,"count":K,"size":B} hold K messages of B-byte texts (history)
  {"cmd":"close"}                             close every session (page unload)
Events:
  {"event":"ready","node_id":...}
  {"event":"open","peer":...,"circle":N}      handshake complete
  {"event":"frame","type":...,"count":n}      a frame arrived (counted before any check)
  {"event":"message","circle":N,"msg_id":...,"text":...,"author":...}
  {"event":"closed","peer":...,"reason":...}
  {"event":"sent_batch","bytes":n}
Every event carries "at", the wall-clock time it happened (for the benchmark).

Attacker modes (--attack): "wrong-secret" answers AUTH with a MAC under another secret;
"early-msgs" sends a MSGS_SEND before its AUTH (and never sends AUTH).
Only 127.0.0.1 is ever published as a candidate.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import aioice.ice
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Loopback only: no other interface address is ever gathered or published.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402


def emit(**event):
    event["at"] = time.time()  # wall clock, for latency figures
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Circle:
    def __init__(self, secret_hex):
        self.secret = bytes.fromhex(secret_hex)
        self.circle_id = hashlib.sha256(self.secret).hexdigest()[:24]
        self.hint = hashlib.sha256(self.circle_id.encode()).hexdigest()[:16]
        self.signing_key = hmac.new(self.secret, b"api-v1", hashlib.sha256).digest()
        self.key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"felund-msg-v1"
        ).derive(self.secret)
        self.messages = {}  # msg_id -> (created_ts, wire fields, display_name, text)

    def aad(self, m):
        return "|".join(
            [m["msg_id"], m["circle_id"], m["channel_id"], m["author_node_id"], str(m["created_ts"])]
        ).encode()

    def seal(self, m, display_name, text):
        nonce = os.urandom(12)
        plain = json.dumps({"display_name": display_name, "text": text}).encode()
        ct = AESGCM(self.key).encrypt(nonce, plain, self.aad(m))
        return {
            "alg": "AES-256-GCM",
            "key_id": "epoch-0",
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ct).decode(),
        }

    def wire(self, msg_id):
        ts, fields, name, text = self.messages[msg_id]
        m = dict(fields)
        m["enc"] = self.seal(m, name, text)
        return m

    def open(self, m):
        """Decrypts a received wire message; None if it does not verify (dropped silently)."""
        try:
            enc = m["enc"]
            nonce = base64.b64decode(enc["nonce"])
            ct = base64.b64decode(enc["ciphertext"])
            plain = AESGCM(self.key).decrypt(nonce, ct, self.aad(m))
            body = json.loads(plain)
            return body.get("display_name", ""), body.get("text", "")
        except Exception:  # noqa: BLE001 - any malformed message is dropped, as the browser does
            return None

    def newest(self, n):
        ids = sorted(self.messages, key=lambda i: (self.messages[i][0], i))
        return ids[-n:]


def dc_auth(secret, a, b):
    return hmac.new(secret, f"dc-auth:{a}:{b}".encode(), hashlib.sha256).hexdigest()


class Session:
    def __init__(self, browser, peer, sid, circle_index, offerer):
        self.browser = browser
        self.peer = peer
        self.sid = sid
        self.circle_index = circle_index
        self.offerer = offerer
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = None
        self.nonce = os.urandom(16).hex()
        self.peer_nonce = None
        self.pending_auth = None
        self.verified = False
        self.sent_auth = False
        self.created = time.monotonic()
        self.closed = False

    @property
    def circle(self):
        return self.browser.circles[self.circle_index]

    def attach(self, channel):
        self.channel = channel

        @channel.on("message")
        def on_message(data):
            if isinstance(data, str):
                asyncio.ensure_future(self.on_text(data))

        @channel.on("close")
        def on_close():
            asyncio.ensure_future(self.browser.end(self, "channel closed"))

        if channel.readyState == "open":
            self.on_open()
        else:
            channel.on("open", self.on_open)

    def send(self, obj):
        text = json.dumps(obj, separators=(",", ":"))
        self.channel.send(text)
        return len(text)

    def on_open(self):
        self.send({"type": "HELLO", "node_id": self.browser.node_id,
                   "circle_hint": self.circle.hint, "nonce": self.nonce})
        if self.browser.attack == "early-msgs":
            mine = [self.circle.wire(i) for i in self.circle.newest(100)]
            self.send({"type": "MSGS_SEND", "messages": mine})

    async def on_text(self, text):
        try:
            frame = json.loads(text)
        except ValueError:
            return
        kind = frame.get("type")
        count = len(frame.get("messages", [])) if kind == "MSGS_SEND" else 1
        emit(event="frame", type=kind, count=count, bytes=len(text), verified=self.verified)
        if kind == "HELLO":
            self.peer_nonce = frame.get("nonce")
            if self.browser.attack == "early-msgs":
                return
            secret = self.circle.secret
            if self.browser.attack == "wrong-secret":
                secret = hashlib.sha256(b"not the secret").digest()
            self.send({"type": "AUTH", "auth": dc_auth(secret, self.nonce, self.peer_nonce)})
            self.sent_auth = True
            if self.pending_auth is not None:
                await self.check(self.pending_auth)
        elif kind == "AUTH":
            if self.peer_nonce is None:
                self.pending_auth = frame.get("auth")
            else:
                await self.check(frame.get("auth"))
        elif kind in ("MSGS_SEND", "MSG_NEW"):
            msgs = frame.get("messages", []) if kind == "MSGS_SEND" else [frame.get("message")]
            for m in msgs:
                self.browser.merge(self.circle_index, m)

    async def check(self, auth):
        expected = dc_auth(self.circle.secret, self.peer_nonce, self.nonce)
        if auth != expected:
            emit(event="auth_failed", peer=self.peer)
            await self.browser.end(self, "auth failed")
            return
        self.verified = True
        emit(event="open", peer=self.peer, circle=self.circle_index)
        mine = [self.circle.wire(i) for i in self.circle.newest(100)]
        sent = self.send({"type": "MSGS_SEND", "messages": mine})
        emit(event="sent_batch", bytes=sent, count=len(mine))


class Browser:
    def __init__(self, args):
        self.relay = args.relay.rstrip("/") + "/v1"
        self.node_id = args.node_id or os.urandom(16).hex()
        self.circles = [Circle(s) for s in args.secret]
        self.on_screen = args.on_screen
        self.attack = args.attack
        self.name = args.name
        self.sessions = {}
        self.cursor = 0
        self.signal_queue = []

    # --- HTTP ---------------------------------------------------------------
    def _http(self, method, path, query=None, body=None, circle=None):
        url = self.relay + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"}
        if circle is not None:
            ts, nonce = str(int(time.time())), os.urandom(16).hex()
            canon = method + path + hashlib.sha256(data).hexdigest() + ts + nonce
            headers.update({
                "X-Felund-Node": self.node_id, "X-Felund-Ts": ts, "X-Felund-Nonce": nonce,
                "X-Felund-Signature": hmac.new(circle.signing_key, canon.encode(), hashlib.sha256).hexdigest(),
            })
        req = urllib.request.Request(url, data=data if body is not None else None, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}
        except Exception:  # noqa: BLE001 - the relay may be restarting
            return 0, {}

    async def http(self, *a, **kw):
        return await asyncio.to_thread(self._http, *a, **kw)

    async def post_signal(self, to, sid, kind, payload, hint):
        status, _ = await self.http("POST", "/signal", body={
            "session_id": sid, "from_node_id": self.node_id, "to_node_id": to,
            "circle_hint": hint, "type": kind, "payload": payload,
            "ttl_s": 60 if kind == "candidate" else 120})
        return status

    # --- loops --------------------------------------------------------------
    async def register_loop(self):
        while True:
            for c in self.circles:
                await self.http("POST", "/register", circle=c, body={
                    "node_id": self.node_id, "circle_hint": c.hint,
                    "endpoints": [{"transport": "ws", "host": "127.0.0.1", "port": 80,
                                   "family": "ipv4", "nat": "unknown"}],
                    "capabilities": {"relay": False, "transport": ["ws"], "can_anchor": False},
                    "ttl_s": 120, "signing_key": c.signing_key.hex()})
            await asyncio.sleep(60)

    async def discover_loop(self):
        while True:
            await asyncio.sleep(2)
            c = self.circles[self.on_screen]
            status, body = await self.http("GET", "/peers", query={"circle_hint": c.hint, "limit": 50}, circle=c)
            for p in body.get("peers", []) if status == 200 else []:
                peer = p.get("node_id", "")
                if self.node_id >= peer:
                    continue
                sid = self.node_id + ":" + peer
                if sid not in self.sessions:
                    await self.offer(peer, sid)

    async def poll_loop(self):
        while True:
            await asyncio.sleep(0.5)
            status, body = await self.http("GET", "/signal", query={"to_node_id": self.node_id, "since_id": self.cursor})
            if status != 200:
                continue
            for s in body.get("signals", []):
                self.cursor = max(self.cursor, s["id"])
                await self.on_signal(s)

    async def timeout_loop(self):
        while True:
            await asyncio.sleep(0.5)
            for s in list(self.sessions.values()):
                if not s.verified and time.monotonic() - s.created > 15:
                    await self.end(s, "ICE timeout")

    async def stdin_loop(self):
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                os._exit(0)
            cmd = json.loads(line)
            if cmd["cmd"] == "send":
                await self.author(cmd.get("circle", 0), cmd["text"])
            elif cmd["cmd"] == "seed":
                for i in range(cmd["count"]):
                    self.add_own(cmd.get("circle", 0), f"seed {i} " + "s" * cmd.get("size", 10), ts_offset=-3600 + i)
                emit(event="seeded", count=cmd["count"])
            elif cmd["cmd"] == "close":
                for s in list(self.sessions.values()):
                    await self.end(s, "page unload")
                emit(event="closed_all")

    # --- sessions -------------------------------------------------------------
    async def offer(self, peer, sid):
        s = Session(self, peer, sid, self.on_screen, True)
        self.sessions[sid] = s
        s.attach(s.pc.createDataChannel("felund-gossip", ordered=True))
        await s.pc.setLocalDescription(await s.pc.createOffer())
        await self.post_description(s, "offer")

    async def post_description(self, s, kind):
        sdp, candidates = split_candidates(s.pc.localDescription.sdp)
        await self.post_signal(s.peer, s.sid, kind, json.dumps({"sdp": sdp, "type": kind}), s.circle.hint)
        for c in candidates:
            payload = json.dumps({"candidate": c, "sdpMid": "0", "sdpMLineIndex": 0})
            await self.post_signal(s.peer, s.sid, "candidate", payload, s.circle.hint)

    async def on_signal(self, sig):
        sid, kind, frm = sig["session_id"], sig["type"], sig["from_node"]
        if kind == "offer":
            if sid in self.sessions:
                return
            # Like the web client: the first circle's transport answers, whatever the offer meant.
            s = Session(self, frm, sid, 0, False)
            self.sessions[sid] = s

            @s.pc.on("datachannel")
            def on_dc(channel):
                s.attach(channel)

            await s.pc.setRemoteDescription(RTCSessionDescription(**json.loads(sig["payload"])))
            await s.pc.setLocalDescription(await s.pc.createAnswer())
            await self.post_description(s, "answer")
        elif kind == "answer":
            s = self.sessions.get(sid)
            if s and s.offerer and s.pc.signalingState == "have-local-offer":
                await s.pc.setRemoteDescription(RTCSessionDescription(**json.loads(sig["payload"])))
        elif kind == "candidate":
            s = self.sessions.get(sid)
            if s and s.pc.remoteDescription is not None:
                c = json.loads(sig["payload"])
                line = c["candidate"].split(":", 1)[1]
                if ".local" in line:
                    return
                cand = candidate_from_sdp(line)
                cand.sdpMid, cand.sdpMLineIndex = c.get("sdpMid"), c.get("sdpMLineIndex")
                await s.pc.addIceCandidate(cand)

    async def end(self, s, reason):
        if s.closed:
            return
        s.closed = True
        if self.sessions.get(s.sid) is s:
            del self.sessions[s.sid]
        emit(event="closed", peer=s.peer, reason=reason, verified=s.verified)
        await s.pc.close()

    # --- messages -------------------------------------------------------------
    def add_own(self, ci, text, ts_offset=0):
        c = self.circles[ci]
        ts = int(time.time()) + ts_offset
        msg_id = hashlib.sha256(f"{self.node_id}|{ts}|{os.urandom(8).hex()}".encode()).hexdigest()[:32]
        fields = {"msg_id": msg_id, "circle_id": c.circle_id, "channel_id": "general",
                  "author_node_id": self.node_id, "created_ts": ts}
        c.messages[msg_id] = (ts, fields, self.name, text)
        return msg_id

    async def author(self, ci, text):
        msg_id = self.add_own(ci, text)
        wire = self.circles[ci].wire(msg_id)
        for s in self.sessions.values():
            if s.verified and s.circle_index == ci:
                s.send({"type": "MSG_NEW", "message": wire})
        emit(event="authored", msg_id=msg_id)

    def merge(self, ci, m):
        c = self.circles[ci]
        if not isinstance(m, dict) or m.get("circle_id") != c.circle_id:
            return
        opened = c.open(m)
        if opened is None or m["msg_id"] in c.messages:
            return
        name, text = opened
        fields = {k: m[k] for k in ("msg_id", "circle_id", "channel_id", "author_node_id", "created_ts")}
        c.messages[m["msg_id"]] = (m["created_ts"], fields, name, text)
        emit(event="message", circle=ci, msg_id=m["msg_id"], text=text, author=m["author_node_id"])


def split_candidates(sdp):
    """Takes the candidates out of an SDP (to trickle them, as Chrome does)."""
    lines, candidates = [], []
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            candidates.append(line[2:])
        elif line != "a=end-of-candidates":
            lines.append(line)
    return "\r\n".join(lines), candidates


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--relay", required=True)
    ap.add_argument("--secret", action="append", required=True)
    ap.add_argument("--node-id")
    ap.add_argument("--name", default="browser")
    ap.add_argument("--on-screen", type=int, default=0)
    ap.add_argument("--attack", choices=["wrong-secret", "early-msgs"])
    args = ap.parse_args()
    b = Browser(args)
    emit(event="ready", node_id=b.node_id)
    await asyncio.gather(b.register_loop(), b.discover_loop(), b.poll_loop(),
                         b.timeout_loop(), b.stdin_loop())


if __name__ == "__main__":
    asyncio.run(main())
